"""No planted PII value reaches the GX project or the Data Docs, failing or passing.

GX copies failing values into validation results and Data Docs unless told not
to (DESIGN.md, "Traps known here"); the gate's result format excludes them. This
test plants PII-looking values that fail the rules, validates (whole and in
chunks), builds Data Docs, and scans every file GX wrote.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lifecycle.integration.quality import QualityGate, scan_for_values

SUITES_DIR = Path(__file__).resolve().parents[2] / "expectations"

MOBILES = ["12098765431", "1399876543", "139a8765432", "13700001111"]  # three fail mobile_format
ID_NUMBERS = ["440106198506213457", "4401061985062", "44010619850621345Y", "44010619850621346X"]
NAMES = ["欧阳娜娜", "司马相如", "诸葛孔明", "上官婉儿"]
EMAILS = ["ouyang.nana@example.cn", "simaxiangru#example.cn", "zhuge@", "sgwe@example.cn"]
ADDRESSES = ["广州市天河区体育西路191号", "成都市武侯区锦里古街8号", "杭州市西湖区孤山路25号", "西安市雁塔区北广场"]
PLANTED = MOBILES + ID_NUMBERS + NAMES + EMAILS + ADDRESSES


def pii_frame() -> pd.DataFrame:
    """core_customers rows carrying the planted values; most rows fail some rule."""
    n = len(MOBILES)
    checks = {
        "chk_id_no_checksum": [False, None, None, True],
        "chk_id_no_birth_date": [True, None, None, False],
        "chk_id_no_gender": [False, None, None, True],
    }
    flags = ["chk_date_valid__birth_date", "chk_date_valid__open_date", "chk_date_valid__updated_at"]
    flags += ["chk_not_future__birth_date", "chk_not_future__open_date"]
    frame = pd.DataFrame(
        {
            "row_id": np.arange(1, n + 1, dtype="int64"),
            "source_key": ["P1", "P2", "P2", "P4"],  # rows 2 and 3 share a key
            "name": NAMES,
            "id_type": ["RIC"] * n,
            "id_no": ID_NUMBERS,
            "gender": ["M", "F", "M", "F"],
            "birth_date": pd.to_datetime(["1985-06-21", "1850-01-01", "1985-06-21", "1985-06-21"]),
            "mobile": MOBILES,
            "email": EMAILS,
            "address": ADDRESSES,
            "branch_code": ["0101"] * n,
            "rm_id": ["RM001"] * n,
            "open_date": pd.to_datetime(["2020-01-02"] * n),
            "marketing_consent": ["true"] * n,
            "updated_at": pd.to_datetime(["2026-01-01 08:00:00"] * n),
        }
        | {name: pd.Series(values, dtype=object) for name, values in checks.items()}
        | {name: pd.Series([True] * n, dtype=object) for name in flags}
    )
    return frame


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Validate the planted frame twice (whole, chunked), reopen the project, build Data Docs."""
    root = tmp_path_factory.mktemp("quality-pii")
    gx_root, docs = root / "gx", root / "data-docs"
    first = QualityGate(gx_root, docs, SUITES_DIR)
    outcome = first.validate(pii_frame(), "core_customers", run_name="pii", source="core_customers")
    assert len(outcome.failed_row_ids) >= 3  # the planted values did fail
    reopened = QualityGate(gx_root, docs, SUITES_DIR)  # reuses the project created above
    reopened.validate(pii_frame(), "core_customers", run_name="pii-chunked", source="core_customers", chunk_rows=2)
    reopened.build_data_docs()
    return gx_root, docs


def test_no_planted_value_in_results_or_data_docs(written: tuple[Path, Path]) -> None:
    gx_root, docs = written
    results = list(gx_root.rglob("uncommitted/validations/**/*.json"))
    pages = list(docs.rglob("validations/**/*.html"))
    assert len(results) == 3 and len(pages) == 3  # one whole run, two chunks: something was written
    assert scan_for_values([gx_root, docs], PLANTED) == []


def test_failing_rows_are_recorded_by_row_id(written: tuple[Path, Path]) -> None:
    gx_root, _ = written
    result_file = sorted(gx_root.rglob("uncommitted/validations/**/*.json"))[0]
    results = json.loads(result_file.read_text(encoding="utf-8"))["results"]
    lists = [r["result"]["unexpected_index_list"] for r in results if r["result"].get("unexpected_index_list")]
    assert lists and all(list(ids[0]) == ["row_id"] for ids in lists)


def test_the_scan_finds_values_in_every_spelling(tmp_path: Path) -> None:
    (tmp_path / "raw.csv").write_text(",".join(NAMES[:2]), encoding="utf-8")
    (tmp_path / "escaped.json").write_text(json.dumps(NAMES[2:] + MOBILES), encoding="utf-8")
    (tmp_path / "page.html").write_text(html.escape(EMAILS[0] + "<br>" + ID_NUMBERS[1]), encoding="utf-8")
    hits = scan_for_values([tmp_path], NAMES + MOBILES + [EMAILS[0], ID_NUMBERS[1]])
    assert len(hits) == len(NAMES + MOBILES) + 2
    assert not any(v in hit for hit in hits for v in PLANTED)  # hits name positions, never values
