"""Planted flaws: each recorded one is in its file row, and nothing else breaks the rules."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum

from lifecycle.synth import SynthConfig, generate
from lifecycle.synth.config import load_sources
from lifecycle.synth.reading import read_extract, read_truth

AS_OF = dt.date(2025, 6, 30)
RATE = 0.04
SOURCES = load_sources()
FLAWED_SOURCES = ("core_customers", "card_customers", "accounts", "transactions", "loans")
MOBILE = re.compile(r"^1[3-9]\d{9}$")


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("flawed")
    generate(SynthConfig(customers=1500, seed=31, as_of=AS_OF, out=out, txns_per_customer=6, flaw_rate=RATE))
    return out


@pytest.fixture(scope="module")
def flaws(bank: Path) -> pd.DataFrame:
    frame = read_truth(bank, "flaws")
    frame["row"] = frame["row"].astype(int)
    return frame


def mobile_ok(value: str) -> bool:
    digits = re.sub(r"[\s\-]", "", value)
    digits = re.sub(r"^(\+86|86)(?=1\d{10}$)", "", digits)
    return bool(MOBILE.match(digits))


def date_ok(value: str, fmt: str) -> bool:
    try:
        dt.datetime.strptime(value, fmt)
    except ValueError:
        return False
    return True


def violates(source: str, rule: str, column: str) -> Callable[[str], bool]:
    """The planted rule as a predicate on a raw cell value."""
    fmt = next((c.formats[0] for c in SOURCES[source].columns if c.name == column and c.formats), "")
    if rule == "id_no_checksum":
        return lambda v: v != "" and not ric.is_valid(v)
    if rule == "date_valid":
        return lambda v: v != "" and not date_ok(v, fmt)
    if rule == "birth_date_not_future":
        return lambda v: date_ok(v, fmt) and dt.datetime.strptime(v, fmt).date() > AS_OF
    if rule == "mobile_format":
        return lambda v: v != "" and not mobile_ok(v)
    if rule == "amount_non_negative":
        return lambda v: float(v) < 0
    raise AssertionError(rule)


def test_about_the_requested_share_of_rows_carries_a_flaw(bank: Path, flaws: pd.DataFrame) -> None:
    for source in FLAWED_SOURCES:
        rows = len(read_extract(bank, source))
        share = flaws.loc[flaws["source"] == source, "row"].nunique() / rows
        assert RATE * 0.4 <= share <= RATE * 2.2, (source, share)
    assert set(flaws["source"]) == set(FLAWED_SOURCES)
    assert set(flaws["rule"]) == {"id_no_checksum", "date_valid", "birth_date_not_future", "source_key_unique",
                                  "mobile_format", "amount_non_negative"}


def test_every_recorded_flaw_is_in_the_recorded_row_and_column(bank: Path, flaws: pd.DataFrame) -> None:
    for source in FLAWED_SOURCES:
        frame = read_extract(bank, source)
        key = SOURCES[source].key[0]
        mine = flaws[flaws["source"] == source]
        assert mine["file"].eq(f"landing/{SOURCES[source].relative_path(AS_OF)}").all()
        assert not mine["row"].duplicated().any(), "one flaw per row"
        for record in mine.itertuples():
            row = frame.iloc[record.row - 1]
            assert row[key] == record.source_key
            if record.rule == "source_key_unique":
                continue
            assert violates(source, record.rule, record.column)(row[record.column]), record


def test_duplicated_keys_are_recorded_on_both_rows(bank: Path, flaws: pd.DataFrame) -> None:
    for source in FLAWED_SOURCES:
        frame = read_extract(bank, source)
        key = SOURCES[source].key[0]
        duplicated_rows = set((frame.index[frame[key].duplicated(keep=False)] + 1).tolist())
        recorded = flaws[(flaws["source"] == source) & (flaws["rule"] == "source_key_unique")]
        assert duplicated_rows == set(recorded["row"]) and duplicated_rows, source
        pairs = frame[frame[key].duplicated(keep=False)].groupby(key)
        assert all(len(g.drop_duplicates()) == 2 for _, g in pairs), "the copy differs in content"


def test_rows_without_a_recorded_flaw_pass_every_planted_rule(bank: Path, flaws: pd.DataFrame) -> None:
    checks = {(s, r, c) for s, r, c in zip(flaws["source"], flaws["rule"], flaws["column"], strict=True)
              if r != "source_key_unique"}
    for source, rule, column in checks:
        frame = read_extract(bank, source)
        clean = frame.drop(index=flaws.loc[flaws["source"] == source, "row"] - 1)
        bad = clean[column].map(violates(source, rule, column))
        assert not bad.any(), (source, rule, column, clean.loc[bad, column].head().tolist())


def test_a_future_birth_date_keeps_the_id_number_consistent(bank: Path, flaws: pd.DataFrame) -> None:
    future = flaws[(flaws["rule"] == "birth_date_not_future") & (flaws["source"] == "core_customers")]
    frame = read_extract(bank, "core_customers")
    assert len(future)
    for row in future["row"]:
        record = frame.iloc[row - 1]
        assert ric.get_birth_date(record["id_no"]).isoformat() == record["birth_date"]
        ric.calc_check_digit(record["id_no"])
        assert record["id_no"][-1] == ric.calc_check_digit(record["id_no"])


def test_a_bad_check_character_is_the_only_thing_wrong_with_a_flawed_id(bank: Path, flaws: pd.DataFrame) -> None:
    bad = flaws[(flaws["rule"] == "id_no_checksum") & (flaws["source"] == "core_customers")]
    frame = read_extract(bank, "core_customers")
    assert len(bad)
    for row in bad["row"]:
        with pytest.raises(InvalidChecksum):
            ric.validate(frame.iloc[row - 1]["id_no"])


def test_flawed_records_are_marked_in_the_identity_truth(bank: Path, flaws: pd.DataFrame) -> None:
    ids = read_truth(bank, "identities")
    for source in ("core_customers", "card_customers"):
        mine = ids[ids["source"] == source]
        flagged = set(mine.loc[mine["flawed"] == "Y", "source_key"])
        assert flagged == set(flaws.loc[flaws["source"] == source, "source_key"])


def test_encoding_flaw_and_dropped_column_change_only_those_files(tmp_path: Path) -> None:
    config = SynthConfig(customers=300, seed=2, as_of=AS_OF, out=tmp_path, txns_per_customer=4,
                         encoding_flaws=("core_customers", "card_customers"),
                         drop_columns=(("transactions", "channel"),))
    generate(config)
    landing = tmp_path / "landing" / AS_OF.isoformat()
    core = (landing / "core_customers.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        core.decode("utf-8")
    assert re.search(r"[\u4e00-\u9fff]", core.decode("gbk"))
    card = (landing / "card_customers.csv").read_bytes().decode("utf-8")
    assert re.search(r"[\u4e00-\u9fff]", card)
    header = (landing / "transactions.csv").read_text(encoding="utf-8").split("\n", 1)[0].split(",")
    expected = [c for c in SOURCES["transactions"].column_names if c != "channel"]
    assert header == expected
    manifest = json.loads((tmp_path / "truth" / "manifest.json").read_text(encoding="utf-8"))
    assert {f["source"] for f in manifest["file_flaws"]} == {"core_customers", "card_customers", "transactions"}
    assert manifest["files"][f"landing/{AS_OF}/core_customers.csv"]["encoding"] == "gbk"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"encoding_flaws": ("transactions",)}, "pure ASCII"),
        ({"encoding_flaws": ("nope",)}, "unknown source"),
        ({"drop_columns": (("accounts", "nope"),)}, "no column"),
        ({"flaw_rate": 0.9}, "flaw-rate"),
    ],
)
def test_impossible_flaw_settings_are_refused(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate(SynthConfig(customers=100, seed=1, as_of=AS_OF, out=tmp_path, **kwargs))  # type: ignore[arg-type]
