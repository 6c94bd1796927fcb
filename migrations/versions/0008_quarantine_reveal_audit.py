"""quarantine reveal audit: stewards' reveals of a quarantined row's failing values, recorded without them

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 06:20:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('quarantine_reveal_audit',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('quarantine_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.String(length=36), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('reason', sa.String(length=512), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quarantine_reveal_audit'))
    )
    with op.batch_alter_table('quarantine_reveal_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quarantine_reveal_audit_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_quarantine_reveal_audit_quarantine_id'), ['quarantine_id'],
                              unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('quarantine_reveal_audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quarantine_reveal_audit_quarantine_id'))
        batch_op.drop_index(batch_op.f('ix_quarantine_reveal_audit_at'))
    op.drop_table('quarantine_reveal_audit')
