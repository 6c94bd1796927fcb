"""The figures of the management report: counts only, checked when built.

Every figure is a frozen dataclass of codes, display labels and customer counts.
None of them has room for a customer name, ID number, mobile or reference: the
report is aggregated before it gets here, so neither the HTML page nor the
markdown artifacts can carry PII. Group names are free text that the caller has
already checked (segment names must not be built from PII, see the design);
they are escaped on output, never trusted as markup.

A figure that cannot be drawn honestly (a negative count, a duplicated code, a
transition matrix that is not square, more overdue complaints than open ones)
raises ValueError when it is built, so a wrong chart is never rendered.

Labels: ``label`` is what the reader sees; when empty, the standard label for
the code (:data:`VALUE_TIER_LABELS`, :data:`LIFECYCLE_STAGE_LABELS`,
:data:`COMPLAINT_STATUS_LABELS`) or else the code itself is shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

VALUE_TIER_LABELS: Mapping[str, str] = {
    "mass": "大众客户",
    "affluent": "富裕客户",
    "high_value": "高净值客户",
    "private_banking": "私人银行客户",
}
LIFECYCLE_STAGE_LABELS: Mapping[str, str] = {
    "prospect": "潜在客户",
    "new": "新客户",
    "growing": "成长期",
    "mature": "成熟期",
    "declining": "衰退期",
    "dormant": "沉睡",
    "churned": "流失",
}
COMPLAINT_STATUS_LABELS: Mapping[str, str] = {
    "open": "待受理",
    "in_progress": "处理中",
    "escalated": "已升级",
    "awaiting_customer": "待客户反馈",
}


def display_label(code: str, label: str, standard: Mapping[str, str]) -> str:
    """The label a reader sees: the given one, else the standard one for the code, else the code."""
    return label or standard.get(code, code)


def _check_count(what: str, value: int) -> None:
    # bool is an int subclass: True as a count is a caller's bug, not 1 customer
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {value!r}")


def _check_unique(what: str, codes: Sequence[str]) -> None:
    seen: set[str] = set()
    for code in codes:
        if not code:
            raise ValueError(f"{what}: a code must not be empty")
        if code in seen:
            raise ValueError(f"{what}: code {code!r} appears twice")
        seen.add(code)


@dataclass(frozen=True)
class TierCount:
    """Customers in one value tier."""

    code: str
    customers: int
    label: str = ""

    def __post_init__(self) -> None:
        _check_count(f"value tier {self.code!r}", self.customers)

    @property
    def display(self) -> str:
        return display_label(self.code, self.label, VALUE_TIER_LABELS)


@dataclass(frozen=True)
class ValueTierDistribution:
    """Customers per value tier, in the order the tiers are shown (lowest first)."""

    tiers: tuple[TierCount, ...]

    def __post_init__(self) -> None:
        _check_unique("value tiers", [t.code for t in self.tiers])

    @property
    def total(self) -> int:
        return sum(t.customers for t in self.tiers)


@dataclass(frozen=True)
class FunnelStage:
    """Customers currently in one lifecycle stage."""

    code: str
    customers: int
    label: str = ""

    def __post_init__(self) -> None:
        _check_count(f"lifecycle stage {self.code!r}", self.customers)

    @property
    def display(self) -> str:
        return display_label(self.code, self.label, LIFECYCLE_STAGE_LABELS)


@dataclass(frozen=True)
class LifecycleFunnel:
    """Customers per lifecycle stage, in funnel order (the widest stage is the reference)."""

    stages: tuple[FunnelStage, ...]

    def __post_init__(self) -> None:
        _check_unique("lifecycle funnel", [s.code for s in self.stages])

    @property
    def total(self) -> int:
        return sum(s.customers for s in self.stages)


@dataclass(frozen=True)
class StageTransitionMatrix:
    """Customers by lifecycle stage at the previous run (rows) and at this run (columns).

    ``counts[i][j]`` customers were in ``stages[i]`` before and are in
    ``stages[j]`` now; the diagonal holds those who stayed. ``labels`` may be
    empty (standard labels) or give one label per stage.
    """

    stages: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]
    labels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_unique("stage transitions", self.stages)
        n = len(self.stages)
        if self.labels and len(self.labels) != n:
            raise ValueError(f"stage transitions: {len(self.labels)} labels for {n} stages")
        if len(self.counts) != n or any(len(row) != n for row in self.counts):
            raise ValueError(f"stage transitions: counts must be a {n}x{n} matrix (one row and column per stage)")
        for i, row in enumerate(self.counts):
            for j, value in enumerate(row):
                _check_count(f"transition {self.stages[i]!r} -> {self.stages[j]!r}", value)

    @classmethod
    def from_pairs(
        cls, stages: Sequence[str], pairs: Mapping[tuple[str, str], int], labels: Sequence[str] = ()
    ) -> StageTransitionMatrix:
        """Build the matrix from ``{(from_stage, to_stage): customers}``; absent pairs are 0."""
        index = {code: i for i, code in enumerate(stages)}
        unknown = sorted({code for pair in pairs for code in pair if code not in index})
        if unknown:
            raise ValueError(f"stage transitions: stages {unknown} are not among {list(stages)}")
        grid = [[0] * len(stages) for _ in stages]
        for (before, after), customers in pairs.items():
            grid[index[before]][index[after]] = customers
        return cls(tuple(stages), tuple(tuple(row) for row in grid), tuple(labels))

    @property
    def display_labels(self) -> tuple[str, ...]:
        given = self.labels or ("",) * len(self.stages)
        return tuple(display_label(c, lbl, LIFECYCLE_STAGE_LABELS) for c, lbl in zip(self.stages, given, strict=True))

    @property
    def total(self) -> int:
        return sum(sum(row) for row in self.counts)

    @property
    def moved(self) -> int:
        """Customers whose stage changed (off the diagonal)."""
        return self.total - sum(self.counts[i][i] for i in range(len(self.stages)))

    @property
    def largest(self) -> int:
        return max((value for row in self.counts for value in row), default=0)

    def count(self, before: str, after: str) -> int:
        return self.counts[self.stages.index(before)][self.stages.index(after)]


@dataclass(frozen=True)
class GroupSize:
    """One customer group's size now and at the previous run (None: the group is new)."""

    name: str
    customers: int
    previous: int | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("a customer group needs a name")
        _check_count(f"group {self.name!r}", self.customers)
        if self.previous is not None:
            _check_count(f"group {self.name!r} at the previous run", self.previous)

    @property
    def change(self) -> int | None:
        return None if self.previous is None else self.customers - self.previous

    @property
    def change_share(self) -> float | None:
        """Relative change; None for a new group or one that was empty before."""
        if self.previous is None or self.previous == 0:
            return None
        return (self.customers - self.previous) / self.previous


@dataclass(frozen=True)
class CustomerGroups:
    """Customer group sizes now and at the previous run, in the order shown."""

    groups: tuple[GroupSize, ...]

    def __post_init__(self) -> None:
        _check_unique("customer groups", [g.name for g in self.groups])

    @property
    def largest(self) -> int:
        return max((max(g.customers, g.previous or 0) for g in self.groups), default=0)


@dataclass(frozen=True)
class ComplaintStatusRow:
    """Open complaints in one status, by age bucket, and how many of them are overdue."""

    status: str
    by_age: tuple[int, ...]
    overdue: int
    label: str = ""

    def __post_init__(self) -> None:
        for value in self.by_age:
            _check_count(f"complaints {self.status!r}", value)
        _check_count(f"overdue complaints {self.status!r}", self.overdue)
        if self.overdue > self.total:
            raise ValueError(f"complaints {self.status!r}: {self.overdue} overdue of {self.total} open")

    @property
    def total(self) -> int:
        return sum(self.by_age)

    @property
    def display(self) -> str:
        return display_label(self.status, self.label, COMPLAINT_STATUS_LABELS)


@dataclass(frozen=True)
class ComplaintBacklog:
    """The complaint backlog: one row per status, one column per age bucket (e.g. "0–7 天")."""

    age_buckets: tuple[str, ...]
    rows: tuple[ComplaintStatusRow, ...]

    def __post_init__(self) -> None:
        _check_unique("complaint age buckets", self.age_buckets)
        _check_unique("complaint statuses", [r.status for r in self.rows])
        for row in self.rows:
            if len(row.by_age) != len(self.age_buckets):
                raise ValueError(
                    f"complaints {row.status!r}: {len(row.by_age)} counts for {len(self.age_buckets)} age buckets"
                )

    @property
    def total(self) -> int:
        return sum(r.total for r in self.rows)

    @property
    def overdue(self) -> int:
        return sum(r.overdue for r in self.rows)

    def bucket_totals(self) -> tuple[int, ...]:
        return tuple(sum(r.by_age[i] for r in self.rows) for i in range(len(self.age_buckets)))


@dataclass(frozen=True)
class ManagementReport:
    """Everything one report shows: the figures of one run and when they were taken.

    ``generated_at`` is given, not read from the clock, so that rendering is pure
    (the same figures always give the same bytes).
    """

    title: str
    as_of: date
    previous_as_of: date | None
    generated_at: datetime
    value_tiers: ValueTierDistribution
    funnel: LifecycleFunnel
    transitions: StageTransitionMatrix
    groups: CustomerGroups
    complaints: ComplaintBacklog
