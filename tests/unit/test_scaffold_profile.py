"""Profiling an extract: delimiter, encoding, types and formats, separators, keys, code sets,
likely personal data, and sampling — measured from hand-made files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lifecycle.errors import SourceError
from lifecycle.integration.scaffold.profile import profile_extract
from lifecycle.integration.sources import ColumnType
from lifecycle.synth.ids import build_ric


def _write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def _rics(n: int) -> list[str]:
    area = np.full(n, 110101, dtype=np.int64)
    birth = np.full(n, 19800101, dtype=np.int64) + np.arange(n, dtype=np.int64) % 28
    return [str(v) for v in build_ric(area, birth, np.arange(n, dtype=np.int64) + 1).to_pylist()]


def test_a_semicolon_extract_with_decimal_commas_and_day_first_dates(tmp_path: Path) -> None:
    rows = [f"{i};{i % 3};{i * 10},{i % 100:02d};{1 + i % 28:02d}.03.2021;{'AB'[i % 2]}" for i in range(1, 60)]
    profile = profile_extract(_write(tmp_path / "loans_cz.csv", ["loan_id;district;amount;date;status", *rows]))
    assert (profile.delimiter, profile.encoding, profile.rows, profile.sampled) == (";", "utf-8", 59, 59)
    amount, date, status = profile.column("amount"), profile.column("date"), profile.column("status")
    assert (amount.type, amount.decimal_separator, amount.thousands_separator) == (ColumnType.DECIMAL, ",", "")
    assert (date.type, date.formats) == (ColumnType.DATE, ("%d.%m.%Y",))
    assert (status.type, status.codes) == (ColumnType.CODE, ("A", "B"))
    assert profile.keys[0] == ("loan_id",)


def test_a_gbk_extract_is_read_as_gbk_and_its_identifiers_are_recognised(tmp_path: Path) -> None:
    ids = _rics(30)
    rows = [f"C{i:05d},{'张李王赵'[i % 4]}{'伟芳娜敏'[i % 4]},{ids[i]},+86 138{i:08d},u{i}@example.com,"
            f"{'北京上海'[i % 2] * 2}市某路{i}号,0{i:05d}" for i in range(30)]
    path = _write(tmp_path / "card_clients.csv", ["CLIENT_ID,CUST_NM,CERT_NO,MOBILE_NO,EMAIL,ADDRESS,BRANCH_NO",
                                                   *rows], "gb18030")
    profile = profile_extract(path)
    assert profile.encoding == "gb18030"
    shapes = {c.name: c.shape for c in profile.columns}
    assert shapes == {"CLIENT_ID": None, "CUST_NM": "person_name", "CERT_NO": "ric", "MOBILE_NO": "mobile",
                      "EMAIL": "email", "ADDRESS": None, "BRANCH_NO": None}
    assert profile.column("BRANCH_NO").type is ColumnType.STRING  # digits with leading zeros: an identifier


def test_a_low_cardinality_column_named_like_personal_data_is_never_a_code_set(tmp_path: Path) -> None:
    rows = [f"{i},{['Smith', 'Jones', 'Brown'][i % 3]},{['1 Main St', '2 High St'][i % 2]},{['FR', 'DE'][i % 2]}"
            for i in range(40)]
    profile = profile_extract(_write(tmp_path / "churn.csv", ["CustomerId,Surname,Address,Geography", *rows]))
    assert profile.column("Geography").codes == ("DE", "FR")
    assert profile.column("Surname").codes == () and profile.column("Surname").shape == "person_name"
    assert profile.column("Address").codes == () and profile.column("Address").type is ColumnType.STRING


def test_digit_dates_need_a_date_name_and_amounts_by_name_are_decimals(tmp_path: Path) -> None:
    rows = [f"{20240101 + i},{20240101 + i},{i * 100},{i % 7}" for i in range(1, 20)]
    profile = profile_extract(_write(tmp_path / "x.csv", ["TXN_DT,REF_NUM,AMT_FEN,visits", *rows]))
    assert (profile.column("TXN_DT").type, profile.column("TXN_DT").formats) == (ColumnType.DATE, ("%Y%m%d",))
    assert profile.column("REF_NUM").type is ColumnType.STRING
    assert profile.column("AMT_FEN").type is ColumnType.DECIMAL
    assert profile.column("visits").type is ColumnType.INTEGER
    assert any("a code?" in n for n in profile.column("visits").notes)


def test_two_digit_years_and_ambiguous_day_month_orders_are_marked_for_review(tmp_path: Path) -> None:
    rows = [f"{930101 + i},{1 + i % 12:02d}/{1 + i % 12:02d}/2020" for i in range(20)]
    profile = profile_extract(_write(tmp_path / "clients.csv", ["birth_date,open_date", *rows]))
    assert profile.column("birth_date").type is ColumnType.STRING
    assert any("two-digit years" in n for n in profile.column("birth_date").notes)
    assert any("%d/%m/%Y and %m/%d/%Y" in n for n in profile.column("open_date").notes)


def test_without_a_unique_column_a_unique_pair_with_a_date_is_the_key(tmp_path: Path) -> None:
    rows = [f"A{i % 5},2026-0{1 + i // 5}-28,{i}.50" for i in range(25)]
    profile = profile_extract(_write(tmp_path / "balances.csv", ["account,day,balance", *rows]))
    assert profile.keys[0] == ("account", "day")


def test_a_large_file_is_sampled_but_its_rows_are_counted_exactly(tmp_path: Path) -> None:
    rows = [f"T{i:07d},{'ABCD'[i % 4]},2026-01-{1 + i % 28:02d}" for i in range(30_000)]
    profile = profile_extract(_write(tmp_path / "txns.csv", ["txn_id,kind,day", *rows]), sample_rows=2_000)
    assert profile.rows == 30_000 and 0 < profile.sampled <= 2_000
    assert profile.column("kind").codes == ("A", "B", "C", "D")
    assert any("sampled" in n for n in profile.notes)


def test_an_empty_file_is_refused_naming_it(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(SourceError, match="empty.csv"):
        profile_extract(tmp_path / "empty.csv")


def test_a_trailer_record_is_left_out_of_the_rows_and_drafted_as_control_totals(tmp_path: Path) -> None:
    from lifecycle.integration.scaffold.draft import draft_source

    body = "rm_id,rm_name,branch,city\n" + "".join(f"RM{i:03d},Wang {i},B{i % 3},City{i}\n" for i in range(12))
    path = tmp_path / "managers.csv"
    path.write_text(body + f"TRAILER,12,{'ab' * 32}\n", encoding="utf-8")
    profile = profile_extract(path)
    assert (profile.rows, profile.trailer) == (12, ("TRAILER", "sha256"))
    assert profile.column("rm_id").unique and profile.column("rm_id").complete and profile.keys[0] == ("rm_id",)
    assert draft_source(profile).spec["control"] == {"kind": "trailer", "marker": "TRAILER", "checksum": "sha256"}
