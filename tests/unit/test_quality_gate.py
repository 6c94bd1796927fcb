"""The quality gate reports each failing row by row_id and rule, and only those rows."""

from __future__ import annotations

import gc
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lifecycle.errors import ConfigError
from lifecycle.integration.quality import QualityGate, ValidationOutcome
from lifecycle.integration.quality import context as gx_context
from lifecycle.integration.quality.results import read_validation_result
from lifecycle.integration.quality.runner import vectorisable

SUITES_DIR = Path(__file__).resolve().parents[2] / "expectations"
VALID_ID = "11010519491231002X"  # GB 11643 sample: born 1949-12-31, sequence 002 (female)

CUSTOMER_CHECKS = [
    "chk_id_no_checksum",
    "chk_id_no_birth_date",
    "chk_id_no_gender",
    "chk_date_valid__birth_date",
    "chk_date_valid__open_date",
    "chk_date_valid__updated_at",
    "chk_number_valid__dependants",
    "chk_not_future__birth_date",
    "chk_not_future__open_date",
]


def customers(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A standardised core_customers frame: one valid customer per row, with overrides."""
    records = []
    for number, override in enumerate(rows, start=1):
        record: dict[str, Any] = {
            "row_id": number,
            "source_key": f"C{number:04d}",
            "name": "张三",
            "id_type": "RIC",
            "id_no": VALID_ID,
            "gender": "F",
            "birth_date": pd.Timestamp("1949-12-31"),
            "mobile": "13812345678",
            "email": "zhang.san@example.cn",
            "address": "北京市朝阳区",
            "branch_code": "0101",
            "rm_id": "RM001",
            "open_date": pd.Timestamp("2020-01-02"),
            "marketing_consent": "true",
            "occupation": "PROFESSIONAL",
            "income_band": "10K_20K",
            "marital_status": "MARRIED",
            "dependants": 1,
            "updated_at": pd.Timestamp("2026-01-01 08:00:00"),
        }
        record.update(dict.fromkeys(CUSTOMER_CHECKS, True))
        record.update(override)
        records.append(record)
    frame = pd.DataFrame.from_records(records)
    for column in ("birth_date", "open_date", "updated_at"):
        frame[column] = frame[column].astype("datetime64[us]")
    for column in CUSTOMER_CHECKS:
        frame[column] = frame[column].astype(object)
    return frame.astype({"row_id": "int64"})


PLANTED: list[dict[str, Any]] = [
    {},  # 1 valid
    {"mobile": "1381234567"},  # 2 ten digits
    {"chk_id_no_checksum": False},  # 3 wrong check character
    {"source_key": "DUP"},  # 4 duplicated key ...
    {"source_key": "DUP"},  # 5 ... both rows fail
    {"gender": "X"},  # 6 unknown source code kept as-is
    {"id_type": "PASSPORT", "id_no": "E12345678", "chk_id_no_checksum": None, "chk_id_no_birth_date": None,
     "chk_id_no_gender": None},  # 7 a passport is not a resident ID: passes
    {"birth_date": pd.Timestamp("1850-01-01"), "chk_id_no_birth_date": False},  # 8 too old, ID disagrees
    {"birth_date": np.datetime64("1000-01-01", "us")},  # 9 outside the datetime64[ns] range
    {"mobile": None, "email": None, "id_no": None, "chk_id_no_checksum": None, "chk_id_no_birth_date": None,
     "chk_id_no_gender": None},  # 10 optional values absent: passes
    {"name": None},  # 11 required
    {"chk_not_future__open_date": False},  # 12 opened after the as-of date
]  # fmt: skip

EXPECTED = {
    (2, "mobile_format", "mobile"),
    (3, "id_no_checksum", "chk_id_no_checksum"),
    (4, "source_key_unique", "source_key"),
    (5, "source_key_unique", "source_key"),
    (6, "code_in_set", "gender"),
    (8, "age_range", "birth_date"),
    (8, "id_no_birth_date", "chk_id_no_birth_date"),
    (9, "age_range", "birth_date"),
    (11, "required", "name"),
    (12, "date_not_future", "chk_not_future__open_date"),
}


@pytest.fixture(scope="module")
def gate(tmp_path_factory: pytest.TempPathFactory) -> QualityGate:
    root = tmp_path_factory.mktemp("quality-gate")
    return QualityGate(root / "gx", root / "data-docs", SUITES_DIR)


@pytest.fixture(scope="module")
def outcome(gate: QualityGate) -> ValidationOutcome:
    return gate.validate(customers(PLANTED), "core_customers", run_name="planted", source="core_customers")


def triples(outcome: ValidationOutcome) -> set[tuple[int, str, str]]:
    return {(int(r.row_id), str(r.rule), str(r.column)) for r in outcome.failures.itertuples()}


def test_each_planted_flaw_is_reported_with_its_row_and_rule(outcome: ValidationOutcome) -> None:
    assert triples(outcome) == EXPECTED
    assert outcome.failures["row_id"].dtype == "int64"
    assert list(outcome.failures.columns) == ["row_id", "rule", "expectation", "column"]


def test_passing_rows_are_absent_and_failing_rows_listed_once(outcome: ValidationOutcome) -> None:
    assert outcome.failed_row_ids == [2, 3, 4, 5, 6, 8, 9, 11, 12]
    assert not {1, 7, 10} & set(outcome.failed_row_ids)
    assert outcome.failed_share == pytest.approx(9 / 12)
    assert outcome.success is False and outcome.table_failures == []


def test_summary_counts_rows_per_expectation_in_suite_order(outcome: ValidationOutcome) -> None:
    by_rule = {(s.rule, s.column): s for s in outcome.summary}
    assert by_rule[("source_key_unique", "source_key")].unexpected_count == 2
    assert by_rule[("mobile_format", "mobile")].success is False
    assert by_rule[("email_format", "email")].success is True
    assert by_rule[("columns_present", "")].unexpected_count is None  # table-level
    assert outcome.summary[0].rule == "columns_present"  # the suite file's first expectation


def test_validation_result_has_its_data_docs_page(gate: QualityGate, outcome: ValidationOutcome) -> None:
    page = outcome.data_docs_page
    assert page is not None and page.suffix == ".html"
    assert gate.data_docs_dir.resolve() in page.resolve().parents
    index = gate.build_data_docs()  # pages are rendered once per run, by the run's report
    assert index.name == "index.html" and index.is_file()
    assert page.is_file() and page.relative_to(index.parent).as_posix() in index.read_text(encoding="utf-8")


def test_chunked_validation_equals_unchunked(gate: QualityGate, outcome: ValidationOutcome) -> None:
    # rows 4 and 5 share a key and land in different chunks of 4 rows
    chunked = gate.validate(
        customers(PLANTED), "core_customers", run_name="planted", source="core_customers", chunk_rows=4
    )
    pd.testing.assert_frame_equal(chunked.failures, outcome.failures)
    assert chunked.summary == outcome.summary
    assert (chunked.success, chunked.table_failures, chunked.rows) == (outcome.success, outcome.table_failures, 12)


def test_negative_amount_and_unknown_code_fail_in_a_fact_source(gate: QualityGate) -> None:
    frame = pd.DataFrame(
        {
            "row_id": np.arange(1, 4, dtype="int64"),
            "txn_id": ["T1", "T2", "T3"],
            "account_no": ["A1", "A1", "A2"],
            "txn_time": pd.to_datetime(["2026-06-01 10:00:00"] * 3),
            "amount": [100.0, -0.01, 5.0],
            "direction": ["DEBIT", "CREDIT", "D"],
            "channel": ["ATM", None, "POS"],
            "txn_type": ["FEE", "SALARY", "PAYMENT"],
            "counterparty_country": [None, "CN", None],
            "currency": ["CNY", "CNY", "USD"],
            "chk_date_valid__txn_time": [True, True, True],
            "chk_number_valid__amount": [True, True, True],
            "chk_not_future__txn_time": [True, True, True],
        }
    )
    result = gate.validate(frame, "transactions", run_name="facts", source="transactions")
    assert triples(result) == {(2, "amount_non_negative", "amount"), (3, "code_in_set", "direction")}


def test_compound_key_duplicates_name_both_key_columns(gate: QualityGate) -> None:
    frame = pd.DataFrame(
        {
            "row_id": np.arange(1, 5, dtype="int64"),
            "account_no": ["A1", "A1", "A1", "A2"],
            "balance_date": pd.to_datetime(["2026-06-29", "2026-06-30", "2026-06-30", "2026-06-30"]),
            "balance": [1.0, 2.0, 3.0, 4.0],
            "balance_cny": [1.0, 2.0, 3.0, 4.0],
        }
        | {c: [True] * 4 for c in ("chk_date_valid__balance_date", "chk_not_future__balance_date")}
        | {c: [True] * 4 for c in ("chk_number_valid__balance", "chk_number_valid__balance_cny")}
    )
    result = gate.validate(frame, "balances", run_name="balances", source="balances", chunk_rows=2)
    assert triples(result) == {
        (2, "source_key_unique", "account_no,balance_date"),
        (3, "source_key_unique", "account_no,balance_date"),
    }


def test_missing_column_is_a_table_level_failure(gate: QualityGate) -> None:
    frame = customers([{}, {"mobile": "1"}]).drop(columns=["mobile"])
    result = gate.validate(frame, "core_customers", run_name="no-mobile", source="core_customers")
    failed = {(t.rule, t.column) for t in result.table_failures}
    assert failed == {("columns_present", ""), ("mobile_format", "mobile")}
    assert all("mobile" in t.reason for t in result.table_failures)
    assert result.success is False and result.failures.empty


def test_an_empty_extract_passes(gate: QualityGate) -> None:
    result = gate.validate(customers([{}]).iloc[0:0], "core_customers", run_name="empty", source="core_customers")
    assert (result.rows, result.success, result.failed_row_ids) == (0, True, [])


@pytest.mark.parametrize(
    ("frame", "suite"),
    [
        (customers([{}]).drop(columns=["row_id"]), "core_customers"),
        (customers([{}, {}]).assign(row_id=[1, 1]), "core_customers"),
        (customers([{}]), "no_such_suite"),
    ],
    ids=["no-row-id", "duplicate-row-id", "unknown-suite"],
)
def test_unusable_input_is_refused_with_a_config_error(gate: QualityGate, frame: pd.DataFrame, suite: str) -> None:
    with pytest.raises(ConfigError):
        gate.validate(frame, suite, run_name="bad", source="core_customers")


def test_gx_answer_carrying_values_is_refused() -> None:
    evr = SimpleNamespace(
        expectation_config=SimpleNamespace(
            id="e1", meta={"rule": "mobile_format"}, type="expect_column_values_to_match_regex", kwargs={"column": "m"}
        ),
        result={"unexpected_count": 1, "unexpected_index_list": [{"m": "13800000000", "row_id": 2}]},
        success=False,
        exception_info={"raised_exception": False},
    )
    with pytest.raises(RuntimeError, match="may hold values"):
        read_validation_result(SimpleNamespace(results=[evr]), ["m", "row_id"])


def test_frame_handed_to_gx_takes_the_vectorised_paths() -> None:
    frame = pd.DataFrame(
        {
            "row_id": np.array([7, 9], dtype="int64"),
            "born": pd.Series([np.datetime64("1000-01-01", "us"), np.datetime64("1990-05-01", "us")]),
            "days": pd.array([3, None], dtype="Int64"),
            "flag": pd.Series([True, None], dtype=object),
        }
    )
    ready = vectorisable(frame)
    assert ready["born"].dtype == "datetime64[ns]" and ready["born"].iloc[0] < pd.Timestamp("1900-01-01")
    assert ready["days"].dtype == "float64" and np.isnan(ready["days"].iloc[1])
    assert ready["flag"].dtype == object and ready.index.name == "row_id"
    assert ready["row_id"].tolist() == [7, 9] and frame["born"].dtype == "datetime64[us]"  # input untouched


# The gate's fixed cost per validation: GX objects are reused, Data Docs are built once per run.
# A second validation of a suite reuses the checkpoint, validation definition and batch
# definition of the first (no GX project file is rewritten) and still reports the new frame's
# own failures; validations render no page until build_data_docs, which renders every result
# still without a page (also one left by an earlier gate) and leaves earlier pages as they are.

FIRST: list[dict[str, Any]] = [{}, {"mobile": "1381234567"}, {"gender": "X"}]  # rows 2 and 3 fail
# row 1 fails, rows 2 and 4 share a key
SECOND: list[dict[str, Any]] = [{"name": None}, {}, {}, {"source_key": "C0002"}]


def pages(docs: Path) -> dict[Path, int]:
    return {page: page.stat().st_mtime_ns for page in docs.rglob("validations/**/*.html")}


def project_files(gx_root: Path) -> dict[Path, int]:
    folders = ("checkpoints", "validation_definitions", "expectations")
    return {f: f.stat().st_mtime_ns for name in folders for f in gx_root.rglob(f"{name}/**/*.json")}


@pytest.fixture
def new_gate(tmp_path: Path) -> QualityGate:
    return QualityGate(tmp_path / "gx", tmp_path / "data-docs", SUITES_DIR)


def test_a_second_validation_reuses_gx_objects_and_reports_its_own_failures(
    new_gate: QualityGate, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = new_gate
    first = gate.validate(customers(FIRST), "core_customers", run_name="day-1", source="core_customers")
    assert triples(first) == {(2, "mobile_format", "mobile"), (3, "code_in_set", "gender")}
    (checkpoint,) = gate._checkpoints.values()
    written = project_files(gate.gx_root)

    def no_new_gx_objects(*args: object) -> None:
        raise AssertionError("the checkpoint of core_customers was built again")

    monkeypatch.setattr(gx_context, "ensure_checkpoint", no_new_gx_objects)
    second = gate.validate(customers(SECOND), "core_customers", run_name="day-2", source="core_customers")
    assert triples(second) == {
        (1, "required", "name"),
        (2, "source_key_unique", "source_key"),
        (4, "source_key_unique", "source_key"),
    }
    assert second.rows == 4 and second.failed_row_ids == [1, 2, 4]
    assert list(gate._checkpoints.values()) == [checkpoint]
    assert project_files(gate.gx_root) == written  # nothing rewritten in the GX project
    results = list(gate.gx_root.rglob("uncommitted/validations/**/*.json"))
    assert len(results) == 2  # each validation is stored, tagged with the checkpoint
    assert all(checkpoint.id in r.read_text(encoding="utf-8") for r in results)


def test_data_docs_are_rendered_once_per_run_for_every_new_result(new_gate: QualityGate) -> None:
    gate = new_gate
    day1 = [
        gate.validate(customers(FIRST), "core_customers", run_name="day-1", source="core_customers"),
        gate.validate(customers(SECOND), "core_customers", run_name="day-1-late-file", source="core_customers"),
    ]
    assert pages(gate.data_docs_dir) == {}  # validating renders nothing
    index = gate.build_data_docs()
    built = pages(gate.data_docs_dir)
    assert {o.data_docs_page for o in day1} == set(built)
    listed = index.read_text(encoding="utf-8")
    assert all(p.relative_to(index.parent).as_posix() in listed for p in built)

    day2 = gate.validate(customers(SECOND), "core_customers", run_name="day-2", source="core_customers")
    gate.build_data_docs()
    after = pages(gate.data_docs_dir)
    assert set(after) == set(built) | {day2.data_docs_page}
    assert {p: after[p] for p in built} == built  # earlier pages are not rendered again


def test_results_left_unrendered_get_their_pages(tmp_path: Path) -> None:
    gx_root, docs = tmp_path / "gx", tmp_path / "data-docs"
    failed_run = QualityGate(gx_root, docs, SUITES_DIR)
    page = failed_run.validate(customers(FIRST), "core_customers", run_name="x", source="core_customers").data_docs_page
    assert page is not None and not page.exists()
    del failed_run  # e.g. a run refused by the quality gate: no report, the gate is dropped
    gc.collect()
    assert page.is_file()

    other = QualityGate(gx_root, docs, SUITES_DIR)
    outcome = other.validate(customers(SECOND), "core_customers", run_name="y", source="core_customers")
    other._docs.unrendered = 0  # as if this gate's finalizer could not run (process killed)
    next_run = QualityGate(gx_root, docs, SUITES_DIR)
    next_run.build_data_docs()
    assert outcome.data_docs_page is not None and outcome.data_docs_page.is_file()
