"""The benchmark's scales: fixed seeds and sizes, so that runs compare."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta

SEED = 42
AS_OF = date(2026, 6, 30)
FLAW_RATE = 0.005
DELTA_FRACTION = 0.01
TXNS_PER_CUSTOMER = 20.0


@dataclass(frozen=True)
class Scale:
    """One benchmark size. ``encrypt_customers`` sizes the encryption micro-benchmark."""

    name: str
    customers: int
    encrypt_customers: int
    profile_by_default: bool
    seed: int = SEED
    as_of: date = AS_OF
    txns_per_customer: float = TXNS_PER_CUSTOMER
    flaw_rate: float = FLAW_RATE
    delta_fraction: float = DELTA_FRACTION

    @property
    def delta_as_of(self) -> date:
        """The incremental day: the day after the full extract."""
        return self.as_of + timedelta(days=1)

    def to_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["as_of"] = self.as_of.isoformat()
        out["delta_as_of"] = self.delta_as_of.isoformat()
        return out


SCALES: dict[str, Scale] = {
    "S": Scale("S", 10_000, 200_000, profile_by_default=False),
    "M": Scale("M", 100_000, 1_000_000, profile_by_default=True),
    "L": Scale("L", 1_000_000, 1_000_000, profile_by_default=True),
}
CURVE = ("S", "M", "L")


def scale_named(name: str, customers: int | None = None) -> Scale:
    """The scale ``name`` (S, M, L), or a custom size derived from it.

    ``customers`` (the hidden ``--customers`` option, for tests) makes a scale
    ``c<N>`` with that many customers and a proportionally small encryption run.
    """
    try:
        base = SCALES[name.upper()]
    except KeyError:
        raise ValueError(f"unknown scale {name!r}; expected one of {', '.join(SCALES)}") from None
    if customers is None:
        return base
    if customers <= 0:
        raise ValueError("--customers must be positive")
    return replace(base, name=f"c{customers}", customers=customers,
                   encrypt_customers=max(1_000, min(base.encrypt_customers, customers * 20)),
                   profile_by_default=False)
