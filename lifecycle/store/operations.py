"""Bookkeeping: ingestion runs and files, quarantine, audit and key records."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lifecycle.store.base import Base, BigId


class IngestionRun(Base):
    __tablename__ = "ingestion_runs"

    run_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    as_of: Mapped[date] = mapped_column(index=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(12))  # lifecycle.status.RunStatus
    flow_run_id: Mapped[str | None] = mapped_column(String(36))
    summary: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(String(2000))
    report_path: Mapped[str | None] = mapped_column(String(512))  # the steward's report, once written
    reported_at: Mapped[datetime | None]


class IngestedFile(Base):
    """One landing file of one source and day, identified by its SHA-256."""

    __tablename__ = "ingested_files"
    __table_args__ = (UniqueConstraint("source", "as_of", "sha256"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(36), index=True)
    source: Mapped[str] = mapped_column(String(64))
    as_of: Mapped[date]
    path: Mapped[str] = mapped_column(String(512))
    sha256: Mapped[str] = mapped_column(String(64))
    encoding: Mapped[str | None] = mapped_column(String(16))
    rows_read: Mapped[int]
    rows_loaded: Mapped[int]
    rows_quarantined: Mapped[int]
    status: Mapped[str] = mapped_column(String(12))  # lifecycle.status.FileStatus
    loaded_at: Mapped[datetime]


class QuarantinedRow(Base):
    """A rejected row: where it came from, which rules it broke, the raw row encrypted."""

    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(36), index=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    file: Mapped[str] = mapped_column(String(512))
    row_number: Mapped[int]
    source_key: Mapped[str | None] = mapped_column(String(64))
    failures: Mapped[list[Any]] = mapped_column(doc='[{"rule", "expectation", "column"}]')
    raw_enc: Mapped[bytes]
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)  # lifecycle.status.QuarantineStatus
    created_at: Mapped[datetime]
    released_at: Mapped[datetime | None]
    released_by: Mapped[str | None] = mapped_column(String(64))
    release_note: Mapped[str | None] = mapped_column(String(512))


class RevealAudit(Base):
    __tablename__ = "reveal_audit"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int] = mapped_column(index=True)
    fields: Mapped[list[Any]]
    reason: Mapped[str] = mapped_column(String(512))


class QuarantineRevealAudit(Base):
    """A steward's reveal of a quarantined row's values: who, when, which row and columns, why.

    Written and committed before anything is decrypted; the values are never stored."""

    __tablename__ = "quarantine_reveal_audit"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64))
    quarantine_id: Mapped[int] = mapped_column(index=True)
    run_id: Mapped[str] = mapped_column(String(36))
    source: Mapped[str] = mapped_column(String(64))
    columns: Mapped[list[Any]]
    reason: Mapped[str] = mapped_column(String(512))


class LookupAudit(Base):
    """A search of customers by a personal value (ID number, mobile): who, when, why, by what, what matched.

    The value itself is never stored, not even its blind index.
    """

    __tablename__ = "lookup_audit"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(16))  # id_no | mobile
    matches: Mapped[int]
    customer_ids: Mapped[list[Any]]
    reason: Mapped[str] = mapped_column(String(512))


class Erasure(Base):
    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(index=True)
    erased_at: Mapped[datetime]
    requested_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(512))
    messages_cancelled: Mapped[int] = mapped_column(default=0)


class KeyRotation(Base):
    __tablename__ = "key_rotations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    to_version: Mapped[int]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    rewrapped: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(12))  # lifecycle.status.RotationStatus
