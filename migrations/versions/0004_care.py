"""care: retention tasks with their events, entitlement changes, the outbox and its delivery attempts

The first schema's placeholder tables (care_messages, retention_tasks,
delivery_attempts) were never written by a release: they are replaced whole.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 00:03:33.936622

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    for placeholder in ('care_messages', 'retention_tasks', 'delivery_attempts'):
        op.drop_table(placeholder)
    op.create_table('retention_task_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('from_status', sa.String(length=12), nullable=True),
    sa.Column('to_status', sa.String(length=12), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('via', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(length=512), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_task_events'))
    )
    with op.batch_alter_table('retention_task_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retention_task_events_task_id'), ['task_id'], unique=False)

    op.create_table('entitlement_changes',
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('entitlement', sa.String(length=32), nullable=False),
    sa.Column('change', sa.String(length=8), nullable=False),
    sa.Column('from_tier', sa.String(length=16), nullable=False),
    sa.Column('to_tier', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.customer_id'], name=op.f('fk_entitlement_changes_customer_id_customers')),
    sa.PrimaryKeyConstraint('customer_id', 'as_of', 'entitlement', name=op.f('pk_entitlement_changes'))
    )
    with op.batch_alter_table('entitlement_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entitlement_changes_as_of'), ['as_of'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('message_key', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('route', sa.JSON(), nullable=False),
    sa.Column('template', sa.String(length=48), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('context', sa.Text(), nullable=True),
    sa.Column('context_enc', sa.LargeBinary(), nullable=True),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('recipient', sa.String(length=32), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('not_before', sa.DateTime(), nullable=False),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.String(length=512), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.customer_id'], name=op.f('fk_outbox_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('message_key', name=op.f('uq_outbox_message_key'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_as_of'), ['as_of'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_status'), ['status'], unique=False)

    op.create_table('retention_tasks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('task_key', sa.String(length=96), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('trigger', sa.String(length=32), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.Column('priority', sa.String(length=2), nullable=False),
    sa.Column('suggested_action', sa.String(length=32), nullable=False),
    sa.Column('assignee', sa.String(length=32), nullable=False),
    sa.Column('rm_id', sa.String(length=16), nullable=True),
    sa.Column('branch_code', sa.String(length=16), nullable=True),
    sa.Column('value_tier', sa.String(length=16), nullable=True),
    sa.Column('lifecycle_stage', sa.String(length=12), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('rules_version', sa.String(length=48), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.customer_id'], name=op.f('fk_retention_tasks_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_tasks')),
    sa.UniqueConstraint('task_key', name=op.f('uq_retention_tasks_task_key'))
    )
    with op.batch_alter_table('retention_tasks', schema=None) as batch_op:
        for column in ('customer_id', 'as_of', 'assignee', 'rm_id', 'due_date', 'status'):
            batch_op.create_index(batch_op.f(f'ix_retention_tasks_{column}'), [column], unique=False)
    # at most one open task per customer, by construction
    op.create_index('uq_retention_tasks_one_open_per_customer', 'retention_tasks', ['customer_id'], unique=True,
                    sqlite_where=sa.text("status IN ('open', 'contacted')"),
                    postgresql_where=sa.text("status IN ('open', 'contacted')"))
    op.create_table('delivery_attempts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('message_key', sa.String(length=128), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('worker', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=12), nullable=False),
    sa.Column('error', sa.String(length=512), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_attempts'))
    )
    with op.batch_alter_table('delivery_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_attempts_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_delivery_attempts_message_key'), ['message_key'], unique=False)


def downgrade() -> None:
    for table in ('delivery_attempts', 'retention_tasks', 'outbox', 'entitlement_changes', 'retention_task_events'):
        op.drop_table(table)
