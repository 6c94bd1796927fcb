"""All canonical tables, importable from one place (Alembic reads ``Base.metadata``)."""

from lifecycle.store.base import Base
from lifecycle.store.decisions import CareMessage, CustomerDecision, DeliveryAttempt, RetentionTask
from lifecycle.store.holdings import (
    Account,
    BalanceSnapshot,
    Card,
    CardTransaction,
    DigitalEvent,
    Feedback,
    Loan,
    Transaction,
)
from lifecycle.store.operations import (
    Erasure,
    IngestedFile,
    IngestionRun,
    KeyRotation,
    QuarantinedRow,
    RevealAudit,
)
from lifecycle.store.parties import Customer, IdentityConflict, RelationshipManager, SourceLink

__all__ = [
    "Account", "BalanceSnapshot", "Base", "Card", "CardTransaction", "CareMessage", "Customer",
    "CustomerDecision", "DeliveryAttempt", "DigitalEvent", "Erasure", "Feedback",
    "IdentityConflict", "IngestedFile", "IngestionRun", "KeyRotation", "Loan", "QuarantinedRow",
    "RelationshipManager", "RetentionTask", "RevealAudit", "SourceLink", "Transaction",
]
