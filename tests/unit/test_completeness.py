"""A cut, empty or still-growing extract is refused instead of loading part of a day."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest

from lifecycle.errors import SourceError
from lifecycle.integration.control import check_stable, check_unchanged, check_volume
from lifecycle.integration.read import inspect_file, locate, read_chunks
from lifecycle.integration.sources import ControlTotals, SourceSpec, load_sources
from lifecycle.integration.stage import stage_source
from lifecycle.privacy.keyring import generate_keyring
from tests.support.validators import NoFailures

AS_OF = date(2026, 6, 30)
FEEDBACK = load_sources()["feedback"]
HEADER = "feedback_id,cust_no,feedback_date,kind,nps_score,category,severity,status\n"


def _rows(n: int) -> str:
    return "".join(f"FB{i},C{i},2026-06-01,SURVEY,9,,,\n" for i in range(1, n + 1))


def _with(**update: object) -> SourceSpec:
    return FEEDBACK.model_copy(update=update)


def _write(tmp_path: Path, text: str, name: str = "feedback.csv") -> Path:
    folder = tmp_path / str(AS_OF)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(text.encode())
    return folder / name


def _stage(spec: SourceSpec, tmp_path: Path) -> int:
    landing = inspect_file(spec, locate(spec, tmp_path, AS_OF), tmp_path, AS_OF)
    staged = stage_source(spec, landing, AS_OF, NoFailures(), keyring=generate_keyring(),
                          staging_dir=tmp_path / "staging", run_name="t", chunk_rows=2)
    return staged.file_rows


def _trailer(body: str, rows: int, marker: str = "TRAILER") -> str:
    return body + f"{marker},{rows},{hashlib.sha256(body.encode()).hexdigest()}\n"


TRAILER = _with(control=ControlTotals(kind="trailer"))


def test_a_trailer_is_checked_and_not_read_as_a_row(tmp_path: Path) -> None:
    _write(tmp_path, _trailer(HEADER + _rows(3), 3))
    assert _stage(TRAILER, tmp_path) == 3
    landing = inspect_file(TRAILER, locate(TRAILER, tmp_path, AS_OF))
    ids = pd.concat(list(read_chunks(TRAILER, landing, chunk_rows=10)))["feedback_id"].tolist()
    assert ids == ["FB1", "FB2", "FB3"] and landing.control is not None and landing.control.rows == 3


def test_a_file_cut_at_a_line_boundary_lacks_its_trailer(tmp_path: Path) -> None:
    whole = _trailer(HEADER + _rows(4), 4)
    _write(tmp_path, "".join(whole.splitlines(keepends=True)[:3]))  # half the rows, no trailer
    with pytest.raises(SourceError) as err:
        _stage(TRAILER, tmp_path)
    assert err.value.rule == "control_missing" and "incomplete" in err.value.message


def test_rows_dropped_before_the_trailer_fail_the_row_count(tmp_path: Path) -> None:
    body = HEADER + _rows(4)
    _write(tmp_path, body + f"TRAILER,5,{hashlib.sha256(body.encode()).hexdigest()}\n")
    with pytest.raises(SourceError) as err:
        _stage(TRAILER, tmp_path)
    assert err.value.rule == "control_row_count" and "announce 5 rows, the file holds 4" in err.value.message


def test_an_altered_extract_fails_the_checksum(tmp_path: Path) -> None:
    _write(tmp_path, _trailer(HEADER + _rows(2), 2).replace("SURVEY", "COMPLAINT", 1))
    with pytest.raises(SourceError) as err:
        _stage(TRAILER, tmp_path)
    assert err.value.rule == "control_checksum"


def test_a_control_file_carries_rows_and_checksum_of_the_whole_extract(tmp_path: Path) -> None:
    spec = _with(control=ControlTotals(kind="file", file="{as_of}/feedback.ctl", checksum="md5"))
    body = HEADER + _rows(3)
    _write(tmp_path, body)
    with pytest.raises(SourceError) as err:
        _stage(spec, tmp_path)
    assert err.value.rule == "control_missing"
    _write(tmp_path, f"3,{hashlib.md5(body.encode()).hexdigest()}\n", "feedback.ctl")
    assert _stage(spec, tmp_path) == 3
    _write(tmp_path, f"7,{hashlib.md5(body.encode()).hexdigest()}\n", "feedback.ctl")
    with pytest.raises(SourceError) as err:
        _stage(spec, tmp_path)
    assert err.value.rule == "control_row_count"
    _write(tmp_path, "three\n", "feedback.ctl")
    with pytest.raises(SourceError) as err:
        _stage(spec, tmp_path)
    assert err.value.rule == "control_format"


def test_a_header_only_extract_is_refused_under_min_rows(tmp_path: Path) -> None:
    _write(tmp_path, HEADER)
    with pytest.raises(SourceError) as err:
        _stage(_with(min_rows=1), tmp_path)
    assert err.value.rule == "min_rows" and "only a header" in err.value.message
    assert _stage(_with(min_rows=0), tmp_path) == 0  # a delta day without changes, as configured


def test_the_row_count_is_held_against_the_previous_load() -> None:
    spec = _with(volume_tolerance=0.3)
    check_volume(spec, Path("f.csv"), 80, 100)
    check_volume(spec, Path("f.csv"), 50, None)  # first load: nothing to compare with
    check_volume(_with(), Path("f.csv"), 1, 100)  # no tolerance configured: off
    with pytest.raises(SourceError) as err:
        check_volume(spec, Path("f.csv"), 50, 100)
    assert err.value.rule == "volume" and "-50.0%" in err.value.message
    with pytest.raises(SourceError):
        check_volume(spec, Path("f.csv"), 200, 100)  # a doubled extract is as suspect


def test_a_file_still_being_written_is_not_read(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + _rows(2))
    spec = _with(stable_seconds=60)
    with pytest.raises(SourceError) as err:
        check_stable(spec, path, datetime.now(UTC))
    assert err.value.rule == "file_stable"
    old = time.time() - 120
    os.utime(path, (old, old))
    check_stable(spec, path, datetime.now(UTC))
    check_stable(_with(), path, datetime.fromtimestamp(old, UTC))  # off by default


def test_a_file_that_grows_while_read_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + _rows(2))
    landing = inspect_file(FEEDBACK, path)
    check_unchanged(path, landing.size, landing.mtime_ns)
    with path.open("a", encoding="utf-8") as fh:
        fh.write("FB9,C9,2026-06-01,SURVEY,9,,,\n")
    with pytest.raises(SourceError) as err:
        check_unchanged(path, landing.size, landing.mtime_ns)
    assert err.value.rule == "file_changed"


def test_separators_that_collide_are_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="separators"):
        _with().model_validate({**FEEDBACK.model_dump(), "decimal_separator": ",", "thousands_separator": ","})


def test_a_ragged_row_before_the_trailer_is_named_and_the_trailer_is_not(tmp_path: Path) -> None:
    body = HEADER + _rows(2) + "FB3,C3,2026-06-01,SURVEY\n" + _rows(1).replace("FB1", "FB4")
    _write(tmp_path, _trailer(body, 4))
    with pytest.raises(SourceError) as err:
        _stage(TRAILER, tmp_path)
    assert (err.value.row, err.value.rule) == (3, "csv_structure") and "trailer" not in err.value.message


def test_a_parquet_source_cannot_declare_a_trailer() -> None:
    with pytest.raises(ValueError, match="no trailer"):
        SourceSpec.model_validate({**FEEDBACK.model_dump(), "format": "parquet", "control": {"kind": "trailer"}})


def test_a_trailer_announcing_no_rows_vouches_for_an_empty_day(tmp_path: Path) -> None:
    _write(tmp_path, _trailer(HEADER, 0))
    assert _stage(_with(control=ControlTotals(kind="trailer"), min_rows=1), tmp_path) == 0
