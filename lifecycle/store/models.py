"""All canonical tables, importable from one place (Alembic reads ``Base.metadata``)."""

from lifecycle.store.attributes import CustomerAttribute
from lifecycle.store.base import Base
from lifecycle.store.care import (
    CampaignSuppression,
    CustomerConsent,
    CustomerPreference,
    DeliveryAttempt,
    EntitlementChange,
    OutboxMessage,
    PointsBalance,
    PointsEntry,
    RetentionTask,
    RetentionTaskEvent,
)
from lifecycle.store.decisions import (
    CustomerDecision,
    CustomerFeatures,
    CustomerGroup,
    CustomerLabel,
    DecisionRun,
    GroupMembership,
    ModelFit,
    StageTransition,
    TierEvent,
)
from lifecycle.store.history import HISTORY
from lifecycle.store.holdings import (
    Account,
    AccountHolder,
    BalanceSnapshot,
    Card,
    CardTransaction,
    DigitalEvent,
    ExtraFact,
    Feedback,
    Interaction,
    Loan,
    Transaction,
)
from lifecycle.store.operations import (
    Erasure,
    IngestedFile,
    IngestionRun,
    KeyRotation,
    LookupAudit,
    QuarantinedRow,
    QuarantineRevealAudit,
    RevealAudit,
)
from lifecycle.store.parties import Customer, IdentityConflict, RelationshipManager, SourceLink

__all__ = [
    "Account", "AccountHolder", "BalanceSnapshot", "CustomerAttribute", "ExtraFact",
    "Base", "Card", "CardTransaction", "Customer", "EntitlementChange",
    "OutboxMessage", "RetentionTaskEvent", "CampaignSuppression", "CustomerConsent", "CustomerPreference",
    "PointsBalance", "PointsEntry",
    "CustomerDecision", "CustomerFeatures", "CustomerGroup", "CustomerLabel", "GroupMembership", "DecisionRun",
    "DeliveryAttempt", "HISTORY",
    "ModelFit", "StageTransition", "TierEvent", "DigitalEvent", "Erasure", "Feedback",
    "IdentityConflict", "IngestedFile", "Interaction", "IngestionRun", "KeyRotation", "Loan", "QuarantinedRow",
    "QuarantineRevealAudit",
    "LookupAudit", "RelationshipManager", "RetentionTask", "RevealAudit", "SourceLink", "Transaction",
]
