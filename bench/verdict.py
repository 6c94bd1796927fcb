"""The targets a benchmark run is judged against, and the judgement."""

from __future__ import annotations

from dataclasses import asdict, dataclass

FULL_RUN_SECONDS_L = 15 * 60  # L full run <= 15 min
PEAK_RSS_BYTES = 6 * 10**9  # peak RSS <= 6 GB
PIPELINE_FLOOR_RATIO = 3.0  # pipeline / I/O floor <= 3.0, at M and L
INCREMENTAL_RATIO = 0.10  # incremental day <= 10 % of the full run
FLOOR_SCALES = ("M", "L")
DECISIONS_SHARE = 0.25  # features + decisions <= 25 % of the integration run's wall time, at L
PASS, FAIL, NOT_APPLICABLE, MISSING = "pass", "FAIL", "n/a", "not measured"


@dataclass(frozen=True)
class Check:
    target: str
    limit: str
    measured: str
    status: str  # pass | FAIL | n/a | not measured
    note: str = ""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def _status(value: float | None, limit: float, applies: bool) -> str:
    if value is None:
        return MISSING
    if not applies:
        return NOT_APPLICABLE
    return PASS if value <= limit else FAIL


def judge(scale: str, full_seconds: float | None, peak_rss_bytes: int | None, floor_ratio: float | None,
          incremental_ratio: float | None, customers: int | None = None,
          decisions_seconds: float | None = None) -> list[Check]:
    """One check per target; a target that does not apply at this scale is ``n/a`` (still shown)."""
    base = scale.upper()
    decision_share = decisions_seconds / full_seconds if decisions_seconds is not None and full_seconds else None
    projected = ""
    if full_seconds is not None and customers and base != "L":
        projected = f"linear projection to 1M customers: {full_seconds / customers * 1e6 / 60:.1f} min"
    return [
        Check("full run at L", f"≤ {FULL_RUN_SECONDS_L / 60:.0f} min",
              "—" if full_seconds is None else f"{full_seconds / 60:.2f} min",
              _status(full_seconds, FULL_RUN_SECONDS_L, base == "L"), projected),
        Check("peak RSS", f"≤ {PEAK_RSS_BYTES / 1e9:.0f} GB",
              "—" if peak_rss_bytes is None else f"{peak_rss_bytes / 1e9:.2f} GB",
              _status(None if peak_rss_bytes is None else float(peak_rss_bytes), PEAK_RSS_BYTES, True)),
        Check("pipeline / I/O floor", f"≤ {PIPELINE_FLOOR_RATIO:.1f} at M and L",
              "—" if floor_ratio is None else f"{floor_ratio:.2f}",
              _status(floor_ratio, PIPELINE_FLOOR_RATIO, base in FLOOR_SCALES)),
        Check("incremental day / full run", f"≤ {INCREMENTAL_RATIO:.0%}",
              "—" if incremental_ratio is None else f"{incremental_ratio:.1%}",
              _status(incremental_ratio, INCREMENTAL_RATIO, True)),
        Check("features + decisions / integration run", f"≤ {DECISIONS_SHARE:.0%} at L",
              "—" if decision_share is None else f"{decision_share:.1%}",
              _status(decision_share, DECISIONS_SHARE, base == "L")),
    ]


def overall(checks: list[Check]) -> str:
    """FAIL if any applicable target failed, else pass (n/a and unmeasured targets do not fail a run)."""
    return FAIL if any(c.status == FAIL for c in checks) else PASS
