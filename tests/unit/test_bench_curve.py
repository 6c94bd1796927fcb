"""The scaling curve calls a flat per-customer time linear, within a tolerance."""

from __future__ import annotations

from bench.curve import curve_of, shape_of


def _points(*pairs: tuple[int, float]) -> list[dict[str, object]]:
    return [{"scale": f"n{n}", "customers": n, "full_seconds": s} for n, s in pairs]


def test_shape_is_judged_by_the_ratio_of_per_customer_times() -> None:
    assert shape_of(1.2) == "linear" and shape_of(0.8) == "linear"
    assert shape_of(1.3) == "super-linear" and shape_of(0.7) == "sub-linear"


def test_a_flat_per_customer_time_is_linear_and_marginal_costs_are_given() -> None:
    curve = curve_of(_points((100_000, 110.0), (10_000, 11.5), (1_000_000, 1_050.0)))
    assert [p["customers"] for p in curve["points"]] == [10_000, 100_000, 1_000_000]
    assert curve["shape"] == "linear"
    assert round(curve["steps"][1]["marginal_ms_per_customer"], 3) == round(940_000 / 900_000, 3)


def test_fixed_costs_look_sub_linear_and_a_growing_cost_super_linear() -> None:
    assert curve_of(_points((10_000, 40.0), (100_000, 120.0)))["shape"] == "sub-linear"
    assert curve_of(_points((10_000, 10.0), (100_000, 200.0)))["shape"] == "super-linear"
    assert curve_of(_points((10_000, 10.0)))["shape"] == "unknown"
