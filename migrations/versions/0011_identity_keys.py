"""identity keys by configuration: blind indexes of e-mail, passport, a cross-system customer key, name + birth date

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 06:10:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0011'
down_revision: Union[str, Sequence[str], None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

KEYS = ('email_bidx', 'passport_bidx', 'customer_key_bidx', 'name_birth_date_bidx')


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('customers', schema=None) as batch_op:
        for key in KEYS:
            batch_op.add_column(sa.Column(key, sa.String(length=32), nullable=True))
            batch_op.create_index(batch_op.f(f'ix_customers_{key}'), [key], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('customers', schema=None) as batch_op:
        for key in reversed(KEYS):
            batch_op.drop_index(batch_op.f(f'ix_customers_{key}'))
            batch_op.drop_column(key)
