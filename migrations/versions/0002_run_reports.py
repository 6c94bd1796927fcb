"""runs record their report; no file is left "loading"

A day now loads in one transaction, so a file is registered as loaded (or
refused) in the same commit as its data: the transient "loading" status is
gone. Files an earlier version left "loading" (its run died mid-way) are
marked superseded; the next run of their day registers them anew.

Revision ID: 0002
Revises: 0001
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: Union[str, Sequence[str], None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("ingestion_runs") as batch:
        batch.add_column(sa.Column("report_path", sa.String(length=512), nullable=True))
        batch.add_column(sa.Column("reported_at", sa.DateTime(), nullable=True))
    op.execute("UPDATE ingested_files SET status = 'superseded' WHERE status = 'loading'")
    op.execute("UPDATE ingestion_runs SET status = 'interrupted' WHERE status = 'running'")
    op.execute("UPDATE ingestion_runs SET reported_at = finished_at WHERE status IN ('succeeded', 'failed')")


def downgrade() -> None:
    with op.batch_alter_table("ingestion_runs") as batch:
        batch.drop_column("reported_at")
        batch.drop_column("report_path")
