"""Staging in chunks: a key repeated across chunks fails on every occurrence."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from lifecycle.integration.read import inspect_file, locate
from lifecycle.integration.sources import load_sources
from lifecycle.integration.stage import _repeated_keys, key_hashes, stage_source
from lifecycle.privacy.keyring import generate_keyring
from tests.support.validators import NoFailures

AS_OF = date(2026, 6, 30)


def test_key_repeated_in_another_chunk_fails_on_both_rows(tmp_path: Path) -> None:
    spec = load_sources()["feedback"]
    folder = tmp_path / str(AS_OF)
    folder.mkdir()
    rows = ["feedback_id,cust_no,feedback_date,kind,nps_score,category,severity,status"]
    rows += [f"FB{i},C{i},2026-06-01,SURVEY,9,,," for i in range(1, 6)]
    rows.append("FB2,C9,2026-06-02,SURVEY,3,,,")  # row 6 repeats row 2's key, three chunks later
    (folder / "feedback.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    landing = inspect_file(spec, locate(spec, tmp_path, AS_OF))
    staged = stage_source(spec, landing, AS_OF, NoFailures(), keyring=generate_keyring(),
                          staging_dir=tmp_path / "staging", run_name="t", chunk_rows=2)
    assert staged.rows_read == 6
    assert sorted(staged.failures.loc[staged.failures["rule"] == "source_key_unique", "row_id"]) == [2, 6]
    assert len(staged.parts) == 3 and sum(len(pd.read_parquet(p)) for p in staged.parts) == 4


def test_repeated_keys_look_file_rows_up_and_hash_released_rows() -> None:
    spec = load_sources()["feedback"]
    file_rows = pd.DataFrame({"row_id": [1, 2, 3], "feedback_id": ["FB1", "FB2", "FB1"]})
    in_file = key_hashes(file_rows, spec)
    duplicated = in_file[[0]]  # FB1 occurs twice in the file
    chunk = pd.DataFrame({"row_id": [3, -7, 2], "feedback_id": ["ignored: looked up by row", " FB1 ", "FB2"]})
    found = _repeated_keys(chunk, spec, duplicated, in_file)
    assert found["row_id"].tolist() == [3, -7]  # row 3 by its file hash; the released row hashed, cleaned
    assert set(found["rule"]) == {"source_key_unique"}
    assert _repeated_keys(chunk, spec, duplicated[:0], in_file).empty
