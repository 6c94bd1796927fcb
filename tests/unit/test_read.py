"""Unreadable extracts are refused with file, row, column and rule."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from lifecycle.errors import SourceError
from lifecycle.integration.read import check_header, inspect_file, locate, read_chunks
from lifecycle.integration.sources import load_sources

SPEC = load_sources()["relationship_managers"]
HEADER = "rm_id,rm_name,branch_code,branch_name,city,notify_tag\n"


def _write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    folder = tmp_path / "2026-06-30"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "relationship_managers.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_gbk_bytes_in_a_utf8_source_name_file_row_column_and_rule(tmp_path: Path) -> None:
    _write(tmp_path, HEADER + "R1,张伟,B01,北京分行,北京,rm-R1\nR2,王芳,B02,上海分行,上海,rm-R2\n", "gbk")
    with pytest.raises(SourceError) as err:
        inspect_file(SPEC, locate(SPEC, tmp_path, date(2026, 6, 30)))
    e = err.value
    assert (e.row, e.column, e.rule) == (1, "rm_name", "encoding")
    assert "relationship_managers.csv" in str(e) and "GBK" in str(e)


def test_missing_column_names_the_column(tmp_path: Path) -> None:
    _write(tmp_path, "rm_id,branch_code,branch_name,city,notify_tag\nR1,B01,x,y,z\n")
    with pytest.raises(SourceError) as err:
        check_header(SPEC, inspect_file(SPEC, locate(SPEC, tmp_path, date(2026, 6, 30))))
    assert (err.value.column, err.value.rule, err.value.row) == ("rm_name", "required_column", 0)


def test_missing_file_names_the_expected_path(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="relationship_managers.csv"):
        locate(SPEC, tmp_path, date(2026, 7, 1))


def test_utf8_with_bom_is_read_and_rows_are_numbered_from_one(tmp_path: Path) -> None:
    rows = "R1,张伟,B01,,北京,rm-R1\nR2,王芳,B02,上海分行,上海,rm-R2\nR3,李娜,B03,x,y,z\n"
    _write(tmp_path, "\ufeff" + HEADER + rows)
    landing = inspect_file(SPEC, locate(SPEC, tmp_path, date(2026, 6, 30)))
    assert landing.encoding == "utf-8-sig" and len(landing.sha256) == 64
    chunks = list(read_chunks(SPEC, landing, chunk_rows=2))
    assert [c["row_id"].tolist() for c in chunks] == [[1, 2], [3]]
    assert chunks[0].loc[0, "branch_name"] is None or chunks[0]["branch_name"].isna()[0]
    assert chunks[0].loc[0, "rm_name"] == "张伟"


def test_a_row_with_too_many_fields_names_its_line_not_its_content(tmp_path: Path) -> None:
    _write(tmp_path, HEADER + "R1,张伟,B01,x,北京,rm-R1\nR2,王芳,B02,x,上海,rm-R2,13812345678\n")
    landing = inspect_file(SPEC, locate(SPEC, tmp_path, date(2026, 6, 30)))
    with pytest.raises(SourceError) as err:
        list(read_chunks(SPEC, landing, chunk_rows=10))
    assert err.value.rule == "csv_structure" and "relationship_managers.csv" in str(err.value)
    assert "line 3" in str(err.value)
    assert "13812345678" not in str(err.value) and "王芳" not in str(err.value)


def test_only_empty_cells_are_missing_and_chunks_are_uniform(tmp_path: Path) -> None:
    rows = "".join(f"R{i},NA,B0{i % 3},null,,rm-{i}\n" for i in range(1, 8))
    _write(tmp_path, HEADER + rows)
    landing = inspect_file(SPEC, locate(SPEC, tmp_path, date(2026, 6, 30)))
    chunks = list(read_chunks(SPEC, landing, chunk_rows=3))
    assert [len(c) for c in chunks] == [3, 3, 1]
    assert chunks[2]["row_id"].tolist() == [7]
    first = chunks[0].iloc[0]
    assert (first["rm_name"], first["branch_name"]) == ("NA", "null")
    assert chunks[0]["city"].isna().all()
    assert list(chunks[0].columns) == ["row_id", *SPEC.columns]


def test_a_header_only_file_is_one_empty_chunk_with_its_columns(tmp_path: Path) -> None:
    _write(tmp_path, HEADER)
    landing = inspect_file(SPEC, locate(SPEC, tmp_path, date(2026, 6, 30)))
    chunks = list(read_chunks(SPEC, landing, chunk_rows=10))
    assert len(chunks) == 1 and chunks[0].empty
    assert list(chunks[0].columns) == ["row_id", *SPEC.columns]


GBK_SPEC = SPEC.model_copy(update={"encoding": "gbk"})
NAMES = "R1,张伟,B01,北京分行,北京,rm-R1\nR2,王芳,B02,上海分行,上海,rm-R2\n"


def _no_content(error: SourceError) -> None:
    shown = f"{error} {error.args!r} {error!r}"
    assert not [word for word in ("张伟", "王芳", "北京", "rm-R1") if word in shown]
    assert not [word for word in ("张伟", "北京分行") if word.encode("utf-8").hex() in shown.replace("\\x", "")]


def test_a_utf8_file_in_a_gbk_source_names_file_row_column_and_rule(tmp_path: Path) -> None:
    _write(tmp_path, HEADER + NAMES, "utf-8")
    with pytest.raises(SourceError) as err:
        inspect_file(GBK_SPEC, locate(GBK_SPEC, tmp_path, date(2026, 6, 30)))
    e = err.value
    assert (e.row, e.column, e.rule) == (1, "rm_name", "encoding")
    assert "relationship_managers.csv" in str(e) and "UTF-8" in str(e) and "encoding: utf-8" in str(e)
    _no_content(e)


def test_bytes_that_are_neither_gbk_nor_utf8_name_where_without_quoting_them(tmp_path: Path) -> None:
    folder = tmp_path / "2026-06-30"
    folder.mkdir(parents=True)
    (folder / "relationship_managers.csv").write_bytes(
        (HEADER + "R1,张伟,B01,北京分行,北京,rm-R1\n").encode("gbk") + b"R2,\xff\xfe,B02,x,y,rm-R2\n")
    with pytest.raises(SourceError) as err:
        inspect_file(GBK_SPEC, locate(GBK_SPEC, tmp_path, date(2026, 6, 30)))
    e = err.value
    assert (e.row, e.column, e.rule) == (2, "rm_name", "encoding") and "GBK" in str(e)
    _no_content(e)


def test_an_ascii_file_in_a_gbk_source_is_read(tmp_path: Path) -> None:
    _write(tmp_path, HEADER + "R1,Zhang Wei,B01,Beijing,Beijing,rm-R1\n", "ascii")
    landing = inspect_file(GBK_SPEC, locate(GBK_SPEC, tmp_path, date(2026, 6, 30)))
    assert next(read_chunks(GBK_SPEC, landing, 10))["rm_name"].tolist() == ["Zhang Wei"]


def test_a_gbk_file_in_a_gbk_source_is_read(tmp_path: Path) -> None:
    _write(tmp_path, HEADER + NAMES, "gbk")
    landing = inspect_file(GBK_SPEC, locate(GBK_SPEC, tmp_path, date(2026, 6, 30)))
    assert landing.encoding == "gb18030"
    assert next(read_chunks(GBK_SPEC, landing, 10))["rm_name"].tolist() == ["张伟", "王芳"]
