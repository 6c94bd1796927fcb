"""``python -m bench.clv [--customers N] [--transactions N] [--fit-sample N] [--seed N]``.

Measures the CLV models at bank scale on a synthetic transaction log: the
repeat-purchase summary (time and peak RSS), the BG/NBD and Gamma-Gamma fits
on a sample and on everyone, and scoring every customer. Prints one line per
step; asserts nothing (the unit tests check correctness, this only measures).

The log is drawn so the models have something to find: each customer starts
at a random day in the three years before the end, stays active for an
exponential number of days, and buys at a Gamma-distributed rate while active;
times are spread over the day and the rows are shuffled, as an extract would be.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd

from bench.machine import MemoryWatch, cpu_model, current_rss_bytes, gib, usable_cores
from lifecycle.decisioning.clv import fit_bgnbd, fit_gamma_gamma, rfm_summary, score_customers

END = pd.Timestamp("2026-06-30")


def synthetic_log(customers: int, transactions: int, seed: int) -> pd.DataFrame:
    """About ``transactions`` rows for ``customers`` customers (columns customer_id, booked_at, amount)."""
    rng = np.random.default_rng(seed)
    start = rng.integers(0, 3 * 365, customers)  # days before END
    span = np.minimum(rng.exponential(400.0, customers), start)  # active days, within the window
    rate = rng.gamma(1.0, 1.0, customers)
    rate *= max(transactions - customers, 0) / float(np.dot(rate, span))
    counts = 1 + rng.poisson(rate * span)
    owner = np.repeat(np.arange(customers, dtype=np.int64), counts)
    offset = rng.random(len(owner)) * np.repeat(span, counts)
    offset[np.r_[0, np.cumsum(counts)[:-1]]] = 0.0  # each customer's first purchase opens its history
    seconds = ((np.repeat(start, counts) - offset) * 86_400).astype(np.int64)
    booked = END.to_datetime64() - seconds.astype("timedelta64[s]")
    order = rng.permutation(len(owner))
    return pd.DataFrame({
        "customer_id": owner[order] + 10_000_000,
        "booked_at": booked[order].astype("datetime64[ns]"),
        "amount": np.round(rng.lognormal(5.0, 1.0, len(owner)), 2)[order],
    })


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.clv", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--transactions", type=int, default=20_000_000)
    parser.add_argument("--fit-sample", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    watch = MemoryWatch()
    print(f"machine: {cpu_model()}, {usable_cores()} cores; peak RSS by {watch.method}")

    started = time.perf_counter()
    log = synthetic_log(args.customers, args.transactions, args.seed)
    gc.collect()
    print(f"synthetic log: {len(log):,} rows, {log['customer_id'].nunique():,} customers, "
          f"{log.memory_usage(deep=True).sum() / 2**20:,.0f} MiB in memory, RSS {gib(current_rss_bytes())}, "
          f"made in {time.perf_counter() - started:.1f} s")

    with _measured(watch, "rfm_summary"):
        rfm = rfm_summary(log, customer_col="customer_id", time_col="booked_at", amount_col="amount",
                          observation_end=END)
    print(f"  {len(rfm):,} customers, {int((rfm['frequency'] > 0).sum()):,} with repeats")
    del log
    gc.collect()

    sample = args.fit_sample
    with _measured(watch, f"fit_bgnbd on {sample:,}"):
        activity = fit_bgnbd(rfm, sample_size=sample, seed=1)
    print(f"  {activity}")
    with _measured(watch, f"fit_gamma_gamma on {sample:,}"):
        spend = fit_gamma_gamma(rfm, sample_size=sample, seed=1)
    print(f"  {spend}")
    with _measured(watch, f"fit_bgnbd on all {len(rfm):,}"):
        everyone = fit_bgnbd(rfm)
    print(f"  {everyone}")
    with _measured(watch, f"score_customers {len(rfm):,} (12 months)"):
        scores = score_customers(rfm, activity, spend)
    print(f"  mean p_alive {scores['p_alive'].mean():.3f}, mean CLV {scores['clv'].mean():,.1f}, "
          f"finite {bool(np.isfinite(scores.to_numpy()).all())}")


@contextmanager
def _measured(watch: MemoryWatch, name: str) -> Iterator[None]:
    """Print the wall time and peak RSS of the block."""
    with watch.phase(name):
        began = time.perf_counter()
        yield
        seconds = time.perf_counter() - began
    print(f"{name}: {seconds:.2f} s, peak RSS {gib(watch.phases[name])}", flush=True)

if __name__ == "__main__":
    main()
