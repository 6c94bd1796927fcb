"""Each way an extract can be unreadable gets one message with its true cause.

Every refusal names file, row, column and rule, and quotes nothing of the file:
the personal data planted in these files must never show in a message.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lifecycle.errors import SourceError
from lifecycle.integration.read import check_header, inspect_file, locate, read_chunks
from lifecycle.integration.sources import load_sources

AS_OF = date(2026, 6, 30)
SOURCES = load_sources()
RM = SOURCES["relationship_managers"]
CARD_TXN = SOURCES["card_transactions"].model_copy(update={"control": None})  # reading, not completeness
HEADER = "rm_id,rm_name,branch_code,branch_name,city,notify_tag\n"
ROWS = "R1,张伟,B01,北京分行,北京,rm-R1\nR2,王芳,B02,上海分行,上海,rm-R2\n"
CARD_HEADER = "TXN_REF,CARD_NO,TXN_TS,AMT_FEN,MCC,MERCHANT_CITY\n"
SECRETS = ("张伟", "王芳", "北京分行", "6228480402564890018")


def _write(tmp_path: Path, data: bytes, name: str = "relationship_managers.csv") -> Path:
    folder = tmp_path / str(AS_OF)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def _refusal(spec: object, tmp_path: Path) -> SourceError:
    with pytest.raises(SourceError) as err:
        landing = inspect_file(spec, locate(spec, tmp_path, AS_OF))  # type: ignore[arg-type]
        list(read_chunks(spec, landing, chunk_rows=10))  # type: ignore[arg-type]
    message = str(err.value)
    assert "Traceback" not in message
    assert not any(secret in message for secret in SECRETS), message
    return err.value


def _read(spec: object, tmp_path: Path) -> pd.DataFrame:
    landing = inspect_file(spec, locate(spec, tmp_path, AS_OF))  # type: ignore[arg-type]
    return pd.concat(list(read_chunks(spec, landing, chunk_rows=10)), ignore_index=True)  # type: ignore[arg-type]


def test_a_zero_byte_file_is_refused_as_empty(tmp_path: Path) -> None:
    _write(tmp_path, b"")
    e = _refusal(RM, tmp_path)
    assert e.rule == "empty_file" and e.file is not None and e.file.endswith("relationship_managers.csv")


def test_a_directory_where_the_file_should_be_is_refused(tmp_path: Path) -> None:
    (tmp_path / str(AS_OF) / "relationship_managers.csv").mkdir(parents=True)
    e = _refusal(RM, tmp_path)
    assert e.rule == "regular_file" and "directory" in e.message


def test_a_dangling_symlink_is_refused(tmp_path: Path) -> None:
    (tmp_path / str(AS_OF)).mkdir()
    (tmp_path / str(AS_OF) / "relationship_managers.csv").symlink_to(tmp_path / "gone.csv")
    e = _refusal(RM, tmp_path)
    assert e.rule == "regular_file" and "broken link" in e.message


def test_a_file_named_in_another_case_is_named_in_the_hint(tmp_path: Path) -> None:
    _write(tmp_path, (HEADER + ROWS).encode(), "RELATIONSHIP_MANAGERS.CSV")
    e = _refusal(RM, tmp_path)
    assert e.rule == "file_present" and "case-sensitive" in e.message


def test_padded_header_names_are_read_as_their_trimmed_selves(tmp_path: Path) -> None:
    _write(tmp_path, (" rm_id , rm_name ,branch_code,branch_name ,city,notify_tag \n" + ROWS).encode())
    frame = _read(RM, tmp_path)
    assert frame["rm_id"].tolist() == ["R1", "R2"] and frame["notify_tag"].tolist() == ["rm-R1", "rm-R2"]


def test_an_absent_optional_column_is_read_as_empty_not_refused(tmp_path: Path) -> None:
    _write(tmp_path, ("rm_id,rm_name,branch_code,branch_name,notify_tag\n"
                      "R1,张伟,B01,北京分行,rm-R1\n").encode())
    landing = inspect_file(RM, locate(RM, tmp_path, AS_OF))
    assert landing.absent == ("city",)
    frame = pd.concat(list(read_chunks(RM, landing, chunk_rows=10)))
    assert frame["city"].isna().all() and frame["rm_name"].tolist() == ["张伟"]


def test_an_absent_required_column_is_refused_as_required_column(tmp_path: Path) -> None:
    _write(tmp_path, (b"rm_id,branch_code,branch_name,city,notify_tag\nR1,B01,x,y,z\n"))
    e = _refusal(RM, tmp_path)
    assert (e.row, e.column, e.rule) == (0, "rm_name", "required_column")


def test_a_duplicated_column_name_is_reported_as_such(tmp_path: Path) -> None:
    _write(tmp_path, ("rm_id,rm_name,branch_code,rm_name,city,notify_tag\n" + ROWS).encode())
    e = _refusal(RM, tmp_path)
    assert (e.column, e.rule) == ("rm_name", "header_duplicate")


def test_a_wrong_delimiter_is_reported_as_the_delimiter(tmp_path: Path) -> None:
    _write(tmp_path, (HEADER + ROWS).replace(",", ";").encode())
    e = _refusal(RM, tmp_path)
    assert e.rule == "delimiter" and "';'" in e.message


def test_an_upper_case_header_is_reported_as_a_case_difference(tmp_path: Path) -> None:
    _write(tmp_path, (HEADER.upper() + ROWS).encode())
    e = _refusal(RM, tmp_path)
    assert e.rule == "header_case"


def test_a_missing_header_row_names_no_value_of_the_first_row(tmp_path: Path) -> None:
    _write(tmp_path, ROWS.encode())
    e = _refusal(RM, tmp_path)
    assert e.rule == "header_missing"


def test_a_utf8_bom_in_a_gbk_source_is_named_as_a_bom(tmp_path: Path) -> None:
    _write(tmp_path, b"\xef\xbb\xbf" + (CARD_HEADER + "T1,6228480402564890018,20260630120000,100,5411,"
                                        "南京\n").encode(), "card_transactions.csv")
    e = _refusal(CARD_TXN, tmp_path)
    assert e.rule == "encoding" and "byte-order mark" in e.message


def test_a_utf16_file_is_named_utf16(tmp_path: Path) -> None:
    _write(tmp_path, (HEADER + ROWS).encode("utf-16"))
    e = _refusal(RM, tmp_path)
    assert e.rule == "encoding" and "UTF-16" in e.message


def test_utf8_lines_in_a_gbk_file_name_line_and_column_not_bytes(tmp_path: Path) -> None:
    good = (CARD_HEADER + "T1,6228480402564890018,20260630120000,100,5411,北京\n").encode("gbk")
    utf8 = "T2,6228480402564890018,20260630120000,100,5411,南京市\n".encode()
    _write(tmp_path, good + utf8 + "T3,6228480402564890018,20260630120000,1,5411,上海\n".encode("gbk"),
           "card_transactions.csv")
    e = _refusal(CARD_TXN, tmp_path)
    assert (e.row, e.column, e.rule) == (2, "MERCHANT_CITY", "encoding")
    assert "UTF-8" in e.message and "南京" not in str(e)


def test_a_utf8_file_declared_gbk_is_refused_instead_of_garbled(tmp_path: Path) -> None:
    _write(tmp_path, (CARD_HEADER + "T1,6228480402564890018,20260630120000,100,5411,南京\n").encode(),
           "card_transactions.csv")
    e = _refusal(CARD_TXN, tmp_path)
    assert (e.row, e.column, e.rule) == (1, "MERCHANT_CITY", "encoding")
    assert "is UTF-8" in e.message


def test_a_gbk_file_of_common_characters_is_read(tmp_path: Path) -> None:
    cities = ["北京", "上海", "南京", "广州", "深圳", "杭州", "成都", "武汉", "西安", "重庆"]
    rows = "".join(f"T{i},6228480402564890018,20260630120000,{i},5411,{c}\n" for i, c in enumerate(cities))
    _write(tmp_path, (CARD_HEADER + rows).encode("gbk"), "card_transactions.csv")
    assert _read(CARD_TXN, tmp_path)["MERCHANT_CITY"].tolist() == cities


def test_a_truncated_multibyte_character_names_the_column_it_is_in(tmp_path: Path) -> None:
    data = (HEADER + "R1,张伟,B01,北京分行,北京,rm-R1\nR2,王芳,B02,上海分行,上").encode()
    _write(tmp_path, data[:-1])  # the last character cut in the middle
    e = _refusal(RM, tmp_path)
    assert (e.row, e.column, e.rule) == (2, "city", "encoding") and "truncated" in e.message


def test_an_invalid_byte_inside_a_quoted_value_names_that_column(tmp_path: Path) -> None:
    data = (HEADER + 'R1,"张,伟",B01,x,').encode() + b"\xff\xfe" + b",rm-R1\n"
    _write(tmp_path, data)
    e = _refusal(RM, tmp_path)
    assert (e.row, e.column, e.rule) == (1, "city", "encoding")


def _parquet_spec() -> object:
    return RM.model_copy(update={"format": "parquet", "path": "{as_of}/relationship_managers.parquet",
                                 "encoding": "utf-8"})


def test_a_valid_parquet_extract_loads_without_encoding_detection(tmp_path: Path) -> None:
    spec = _parquet_spec()
    folder = tmp_path / str(AS_OF)
    folder.mkdir()
    table = pa.table({"rm_id": ["R1", "R2"], "rm_name": ["张伟", "王芳"], "branch_code": ["B01", "B02"],
                      "branch_name": [None, "上海分行"], "city": ["北京", "上海"], "notify_tag": ["a", "b"]})
    pq.write_table(table, folder / "relationship_managers.parquet")
    landing = inspect_file(spec, locate(spec, tmp_path, AS_OF))  # type: ignore[arg-type]
    assert landing.encoding == "binary"
    frame = pd.concat(list(read_chunks(spec, landing, chunk_rows=1)))  # type: ignore[arg-type]
    assert frame["rm_name"].tolist() == ["张伟", "王芳"] and frame["row_id"].tolist() == [1, 2]
    assert frame["branch_name"].tolist()[0] is None


def test_a_broken_parquet_extract_is_refused_without_quoting_it(tmp_path: Path) -> None:
    spec = _parquet_spec()
    folder = tmp_path / str(AS_OF)
    folder.mkdir()
    good = folder / "good.parquet"
    pq.write_table(pa.table({"rm_id": ["R1"], "rm_name": ["张伟"], "branch_code": ["B01"]}), good)
    (folder / "relationship_managers.parquet").write_bytes(good.read_bytes()[:-40])
    e = _refusal(spec, tmp_path)
    assert e.rule == "parquet_format" and "truncated" in e.message


def test_a_quoted_value_spanning_lines_is_refused_unless_allowed(tmp_path: Path) -> None:
    _write(tmp_path, (HEADER + 'R1,张伟,B01,"北京\n分行",北京,rm-R1\n').encode())
    e = _refusal(RM, tmp_path)
    assert (e.row, e.column, e.rule) == (1, "branch_name", "csv_structure")
    allowing = RM.model_copy(update={"quoted_newlines": True})
    assert _read(allowing, tmp_path)["branch_name"].tolist() == ["北京\n分行"]


def test_an_unclosed_quote_is_named_as_such(tmp_path: Path) -> None:
    _write(tmp_path, (HEADER + 'R1,"张伟,B01,x,北京,rm-R1\nR2,王芳,B02,x,上海,rm-R2\n').encode())
    e = _refusal(RM, tmp_path)
    assert e.rule == "csv_structure" and "never closed" in e.message


def test_a_value_over_the_size_limit_names_row_and_column(tmp_path: Path) -> None:
    _write(tmp_path, (HEADER + "R1,张伟,B01,x,北京,rm-R1\nR2,王芳,B02," + "长" * 70_000 + ",上海,t\n").encode())
    e = _refusal(RM, tmp_path)
    assert (e.row, e.column, e.rule) == (2, "branch_name", "field_size")


def test_cr_only_line_ends_are_read(tmp_path: Path) -> None:
    _write(tmp_path, (HEADER + ROWS).replace("\n", "\r").encode())
    assert _read(RM, tmp_path)["rm_id"].tolist() == ["R1", "R2"]


def test_check_header_lists_the_configured_columns_present(tmp_path: Path) -> None:
    _write(tmp_path, (b"rm_id,rm_name,branch_code,extra\nR1,x,B01,y\n"))
    assert check_header(RM, inspect_file(RM, locate(RM, tmp_path, AS_OF))) == ["rm_id", "rm_name", "branch_code"]


def test_a_latin1_file_is_not_mistaken_for_gbk(tmp_path: Path) -> None:
    _write(tmp_path, (HEADER + "R1,Müller,B01,x,Zürich,rm-R1\n").encode("latin-1"))
    e = _refusal(RM, tmp_path)
    assert (e.row, e.column, e.rule) == (1, "rm_name", "encoding") and "Latin-1" in e.message
    assert "GBK/GB18030: set" not in e.message


def test_a_misnamed_file_is_named_in_the_hint(tmp_path: Path) -> None:
    _write(tmp_path, (HEADER + ROWS).encode(), "relationship_manager.csv")
    e = _refusal(RM, tmp_path)
    assert e.rule == "file_present" and "'relationship_manager.csv'" in e.message


def test_an_undeclared_trailer_is_named_as_a_likely_trailer(tmp_path: Path) -> None:
    _write(tmp_path, (HEADER + ROWS + "TRAILER,2\n").encode())
    e = _refusal(RM, tmp_path)
    assert (e.row, e.rule) == (3, "csv_structure") and "trailer" in e.message


def test_parquet_dates_and_times_are_read_in_the_configured_format(tmp_path: Path) -> None:
    from datetime import datetime

    spec = SOURCES["card_customers"].model_copy(update={"format": "parquet", "path": "{as_of}/cards.parquet"})
    folder = tmp_path / str(AS_OF)
    folder.mkdir()
    pq.write_table(pa.table({
        "CARD_CUST_ID": ["K1"], "CUST_NM": ["王伟"], "CARD_NO": ["6228480402564890018"],
        "BIRTH_DT": pa.array([date(1990, 1, 31)], pa.date32()), "CREDIT_LIMIT": pa.array([1234500], pa.int64()),
        "CARD_OPEN_DT": pa.array([date(2020, 1, 2)], pa.date32()),
        "UPD_TS": pa.array([datetime(2026, 1, 1, 8, 30)], pa.timestamp("us"))}), folder / "cards.parquet")
    frame = pd.concat(list(read_chunks(spec, inspect_file(spec, locate(spec, tmp_path, AS_OF)), chunk_rows=5)))
    row = frame.iloc[0]
    assert (row["BIRTH_DT"], row["CARD_OPEN_DT"], row["UPD_TS"], row["CREDIT_LIMIT"]) == (
        "19900131", "2020/01/02", "20260101083000", "1234500")
    assert row["CERT_NO"] is None  # optional, absent
