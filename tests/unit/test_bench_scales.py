"""Scales are fixed; cached data is reused only when its manifest matches; the slowest stage is targeted."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from bench.data import generator_args, manifest_matches
from bench.profiling import choose_target, needed_sources, sample_landing, slowest_step
from bench.runner import PipelineRun, SourceTiming
from bench.scales import SCALES, scale_named
from lifecycle.integration.sources import load_sources


def test_the_fixed_scales_and_a_hidden_custom_size() -> None:
    assert [SCALES[n].customers for n in "SML"] == [10_000, 100_000, 1_000_000]
    assert SCALES["S"].encrypt_customers == 200_000 and SCALES["L"].encrypt_customers == 1_000_000
    custom = scale_named("S", 300)
    assert (custom.name, custom.customers, custom.seed) == ("c300", 300, SCALES["S"].seed)
    assert custom.delta_as_of.isoformat() == "2026-07-01"
    with pytest.raises(ValueError, match="unknown scale"):
        scale_named("XL")


def _manifest(root: Path, args: dict[str, object], mode: str = "full") -> None:
    (root / "truth").mkdir(parents=True)
    (root / "landing").mkdir()
    (root / "landing" / "a.csv").write_text("x\n1\n")
    files = {"landing/a.csv": {"source": "a", "rows": 1, "bytes": 4, "encoding": "utf-8"}}
    (root / "truth" / "manifest.json").write_text(json.dumps({"mode": mode, "args": args, "files": files}))


def test_cached_data_is_reused_only_when_arguments_and_files_match(tmp_path: Path) -> None:
    scale = scale_named("S", 300)
    _manifest(tmp_path / "ok", {**generator_args(scale, "full"), "chunk_size": 50_000})
    assert manifest_matches(tmp_path / "ok", scale, "full")
    assert not manifest_matches(tmp_path / "ok", scale, "delta")
    assert not manifest_matches(tmp_path / "ok", scale_named("S", 400), "full")
    (tmp_path / "ok" / "landing" / "a.csv").write_text("x\n12\n")  # a file changed size
    assert not manifest_matches(tmp_path / "ok", scale, "full")
    assert not manifest_matches(tmp_path / "missing", scale, "full")


def _run() -> PipelineRun:
    run = PipelineRun("full", "2026-06-30", "succeeded", "r")
    run.steps.update({"validate": 5.0, "load": 9.0, "other": 50.0})
    run.customers = {"seconds": {"load": 1.0}}
    run.sources = [SourceTiming("transactions", "transaction", 10, 0, {"validate": 1.0, "load": 6.0}),
                   SourceTiming("balances", "balance", 10, 0, {"validate": 4.0, "load": 2.0})]
    return run


def test_the_slowest_step_is_replayed_on_the_source_that_spent_most_time_in_it() -> None:
    run = _run()
    assert slowest_step(run) == "load"  # "other" is not a step
    target = choose_target(run, "load")
    assert (target.kind, target.source) == ("facts", "transactions")
    assert choose_target(run, "validate").source == "balances"
    assert choose_target(run, "resolve").kind == "customers"
    names = needed_sources(target, load_sources())
    assert {"core_customers", "card_customers", "accounts", "transactions"} <= set(names)
    assert "balances" not in names


def test_the_replayed_file_is_cut_to_a_sample_and_the_others_linked(tmp_path: Path) -> None:
    sources = load_sources()
    day = tmp_path / "landing" / "2026-06-30"
    day.mkdir(parents=True)
    (day / "transactions.csv").write_text("txn_id\n" + "".join(f"T{i}\n" for i in range(10)))
    (day / "transactions.ctl").write_text("10,0\n")  # the full extract's totals (not read here)
    (day / "accounts.csv").write_text("account_no\n1\n")
    out = tmp_path / "sample"
    rows = sample_landing(tmp_path / "landing", out, sources, ["accounts", "transactions"],
                          scale_named("S").as_of, "transactions", 4)
    assert rows == 4
    assert (out / "2026-06-30" / "transactions.csv").read_text().splitlines() == ["txn_id", "T0", "T1", "T2", "T3"]
    assert (out / "2026-06-30" / "accounts.csv").is_symlink()
    # the cut sample announces its own control totals, so the packaged config accepts it
    sample = (out / "2026-06-30" / "transactions.csv").read_bytes()
    assert (out / "2026-06-30" / "transactions.ctl").read_text() == f"4,{hashlib.sha256(sample).hexdigest()}\n"


def test_the_recorded_command_line_hides_the_database_password() -> None:
    from bench.__main__ import redacted

    argv = ["--scale", "S", "--database-url", "postgresql+psycopg://u:secret@db/x"]
    assert "secret" not in " ".join(redacted(argv))
    assert redacted(["--database-url=postgresql://u:secret@db/x"]) == ["--database-url=postgresql://u:***@db/x"]
