"""The malformed-input corpus: every way a landing file can be wrong, and the answer expected.

Each :class:`Case` is one landing day of one or a few small files derived from the
clean extracts in ``tests/data/malformed/_base/`` (synthetic rows of the generator).
Text cases are committed under ``tests/data/malformed/<case>/``; binary or large
ones (other encodings, NUL bytes, a 10 MB value, Parquet, links, directories) are
written by :func:`materialise` when a test needs them. Regenerate the committed
ones after changing a case::

    python -m tests.support.malformed --write-text

A case expects one of three outcomes:

* ``refused`` — the run stops with one :class:`~lifecycle.errors.SourceError`
  naming the file and the rule (and the row and column where the case says);
* ``gate_refused`` — the listed rows break the rule and the source is over its
  error budget: the quality gate refuses the run, keeping the quarantine;
* ``quarantined`` — the run loads the good rows and quarantines the listed rows
  under the rule (the case's error budget allows them);
* ``loaded`` — every row loads.
"""

from __future__ import annotations

import argparse
import io
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

CORPUS = Path(__file__).resolve().parents[1] / "data" / "malformed"
BASE = CORPUS / "_base"
ANY: Any = object()  # the row or column is not asserted
Outcome = Literal["refused", "gate_refused", "quarantined", "loaded"]
Files = dict[str, bytes]
LENIENT = {"error_budget": 0.9}  # quarantine cases: the good rows load


def base(source: str) -> str:
    return (BASE / f"{source}.csv").read_text(encoding="utf-8")


def lines(source: str) -> list[str]:
    return base(source).splitlines(keepends=True)


def with_cell(source: str, row: int, column: str, value: str) -> str:
    """The base file with data row ``row``'s ``column`` set to ``value`` (no quoting)."""
    rows = lines(source)
    header = rows[0].rstrip("\n").split(",")
    cells = rows[row].rstrip("\n").split(",")
    cells[header.index(column)] = value
    rows[row] = ",".join(cells) + "\n"
    return "".join(rows)


def utf8(name: str, text: str) -> Callable[[], Files]:
    return lambda: {name: text.encode("utf-8")}


@dataclass(frozen=True)
class Case:
    name: str
    category: str
    sources: tuple[str, ...]
    outcome: Outcome
    files: Callable[[], Files]
    rule: str | None = None
    file: str | None = None  # the file a refusal names (its name)
    row: Any = ANY
    column: Any = ANY
    quarantined: tuple[int, ...] = ()  # data rows quarantined under ``rule``
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    chunk_rows: int | None = None
    committed: bool = True  # text files kept in the repository
    special: str | None = None  # "directory" | "dangling_link": the file is not a file

    @property
    def folder(self) -> Path:
        return CORPUS / self.name


def one_bad_cell(name: str, source: str, row: int, column: str, value: str, rule: str) -> Case:
    """A quarantine case: the base file of ``source`` with one cell rewritten."""
    return Case(name, "values", (source,), "quarantined", utf8(f"{source}.csv", with_cell(source, row, column, value)),
                rule, quarantined=(row,), overrides={source: LENIENT})


RM = "relationship_managers.csv"
CUST = "core_customers.csv"
CORP = "core_corporates.csv"
CARD = "card_customers.csv"
ACCT = "accounts.csv"


def _gbk(text: str) -> bytes:
    return text.encode("gbk")


def _mixed_gbk() -> Files:
    rows = lines("card_customers")
    return {CARD: _gbk("".join(rows[:2])) + rows[2].encode("utf-8") + _gbk("".join(rows[3:]))}


def _truncated_multibyte() -> Files:
    data = base("relationship_managers").rstrip("\n").encode("utf-8")
    cut = data.removesuffix(b",rm-RM00004")  # the file now ends with the last row's city …
    return {RM: cut[:-1]}  # … cut inside its last character


def _latin1() -> Files:
    text = with_cell("relationship_managers", 2, "rm_name", "Müller")
    return {RM: text.replace("闵娜艳", "").encode("latin-1", errors="ignore")}


def _parquet(text: str, *, broken: bool = False) -> bytes:
    table = pacsv.read_csv(io.BytesIO(text.encode()), convert_options=pacsv.ConvertOptions(
        column_types={n: pa.string() for n in text.splitlines()[0].split(",")}))
    sink = io.BytesIO()
    pq.write_table(table, sink)
    data = sink.getvalue()
    return data[: len(data) // 2] if broken else data


def _large_field() -> Files:
    return {RM: with_cell("relationship_managers", 2, "branch_name", "支" * ((10 << 20) // 3)).encode()}


def _chunks_apart() -> str:
    rows = lines("core_customers")
    again = rows[1].replace("张明雷", "张明")  # the first customer's key, three chunks later
    return "".join([*rows, again])


def _across_files() -> Files:
    customers = base("core_customers")
    shared = lines("core_customers")[1].split(",")[0]  # a customer's key, used again by a corporate
    corporates = base("core_corporates").replace("8864672047", shared)
    return {CUST: customers.encode(), CORP: corporates.encode(), ACCT: base("accounts").encode()}


def _header_only(source: str) -> str:
    return lines(source)[0]


def _truncated(source: str) -> str:
    return "".join(lines(source)[:3])  # cut at a line boundary: half the rows, no trailer


TRAILER = {"control": {"kind": "trailer", "checksum": "sha256"}}

CASES: list[Case] = [
    # encodings
    Case("enc_utf16", "encodings", ("relationship_managers",), "refused",
         lambda: {RM: base("relationship_managers").encode("utf-16")}, "encoding", RM, committed=False),
    Case("enc_utf16_no_bom", "encodings", ("relationship_managers",), "refused",
         lambda: {RM: base("relationship_managers").encode("utf-16-le")}, "encoding", RM, committed=False),
    Case("enc_latin1", "encodings", ("relationship_managers",), "refused", _latin1, "encoding", RM,
         row=2, column="rm_name", committed=False),
    Case("enc_mixed_utf8_in_gbk", "encodings", ("card_customers",), "refused", _mixed_gbk, "encoding", CARD,
         row=2, column="CUST_NM", committed=False),
    Case("enc_utf8_declared_gbk", "encodings", ("card_customers",), "refused",
         utf8(CARD, base("card_customers")), "encoding", CARD, row=1, column="CUST_NM"),
    Case("enc_gbk_as_declared", "encodings", ("card_customers",), "loaded",
         lambda: {CARD: _gbk(base("card_customers"))}, committed=False),
    Case("enc_bom_utf8", "encodings", ("relationship_managers",), "loaded",
         lambda: {RM: b"\xef\xbb\xbf" + base("relationship_managers").encode()}, committed=False),
    Case("enc_bom_in_gbk", "encodings", ("card_customers",), "refused",
         lambda: {CARD: b"\xef\xbb\xbf" + base("card_customers").encode()}, "encoding", CARD, committed=False),
    Case("enc_truncated_multibyte", "encodings", ("relationship_managers",), "refused", _truncated_multibyte,
         "encoding", RM, row=4, column="city", committed=False),
    # headers
    Case("hdr_missing", "headers", ("relationship_managers",), "refused",
         utf8(RM, "".join(lines("relationship_managers")[1:])), "header_missing", RM, row=0),
    Case("hdr_extra", "headers", ("relationship_managers",), "loaded",
         utf8(RM, base("relationship_managers").replace("notify_tag\n", "notify_tag,remark\n", 1)
              .replace("rm-RM00001\n", "rm-RM00001,x\n").replace("rm-RM00002\n", "rm-RM00002,\n")
              .replace("rm-RM00003\n", "rm-RM00003,y\n").replace("rm-RM00004\n", "rm-RM00004,\n"))),
    Case("hdr_renamed_required", "headers", ("relationship_managers",), "refused",
         utf8(RM, base("relationship_managers").replace("rm_name", "rm_nm", 1)), "required_column", RM,
         row=0, column="rm_name"),
    Case("hdr_renamed_optional", "headers", ("relationship_managers",), "loaded",
         utf8(RM, base("relationship_managers").replace(",city,", ",city_name,", 1))),
    Case("hdr_optional_absent", "headers", ("core_customers",), "loaded",
         utf8(CUST, "".join(",".join(c for i, c in enumerate(r.rstrip("\n").split(",")) if i != 7) + "\n"
                            for r in lines("core_customers")))),
    Case("hdr_duplicated", "headers", ("relationship_managers",), "refused",
         utf8(RM, base("relationship_managers").replace("branch_name", "rm_name", 1)), "header_duplicate", RM,
         row=0, column="rm_name"),
    Case("hdr_padded", "headers", ("relationship_managers",), "loaded",
         utf8(RM, base("relationship_managers").replace("rm_id,rm_name,", " rm_id , rm_name  ,", 1))),
    Case("hdr_upper_case", "headers", ("relationship_managers",), "refused",
         utf8(RM, lines("relationship_managers")[0].upper() + "".join(lines("relationship_managers")[1:])),
         "header_case", RM, row=0),
    # structure
    Case("st_semicolon_delimiter", "structure", ("relationship_managers",), "refused",
         utf8(RM, base("relationship_managers").replace(",", ";")), "delimiter", RM, row=0),
    Case("st_tab_delimiter", "structure", ("relationship_managers",), "refused",
         utf8(RM, base("relationship_managers").replace(",", "\t")), "delimiter", RM, row=0),
    Case("st_quoted_newline", "structure", ("relationship_managers",), "refused",
         utf8(RM, with_cell("relationship_managers", 2, "branch_name", '"北京\n国贸支行"')), "csv_structure", RM,
         row=2, column="branch_name"),
    Case("st_quoted_newline_allowed", "structure", ("relationship_managers",), "loaded",
         utf8(RM, with_cell("relationship_managers", 2, "branch_name", '"北京\n国贸支行"')),
         overrides={"relationship_managers": {"quoted_newlines": True}}),
    Case("st_unbalanced_quote", "structure", ("relationship_managers",), "refused",
         utf8(RM, with_cell("relationship_managers", 2, "branch_name", '"北京国贸支行')), "csv_structure", RM),
    Case("st_ragged_long_row", "structure", ("relationship_managers",), "refused",
         utf8(RM, with_cell("relationship_managers", 3, "notify_tag", "rm-RM00003,extra")), "csv_structure", RM,
         row=3),
    Case("st_ragged_short_row", "structure", ("relationship_managers",), "refused",
         utf8(RM, base("relationship_managers").replace(",rm-RM00002\n", "\n")), "csv_structure", RM, row=2),
    Case("st_null_byte", "structure", ("relationship_managers",), "quarantined",
         lambda: {RM: with_cell("relationship_managers", 2, "rm_name", "闵\x00娜艳").encode()},
         "control_characters", quarantined=(2,), overrides={"relationship_managers": LENIENT}, committed=False),
    Case("st_control_characters", "structure", ("relationship_managers",), "quarantined",
         lambda: {RM: with_cell("relationship_managers", 3, "branch_name", "杭州\x1b[31m西湖支行").encode()},
         "control_characters", quarantined=(3,), overrides={"relationship_managers": LENIENT}, committed=False),
    Case("st_10mb_field", "structure", ("relationship_managers",), "refused", _large_field, "field_size", RM,
         row=2, column="branch_name", committed=False),
    Case("st_cr_only_lines", "structure", ("relationship_managers",), "loaded",
         lambda: {RM: base("relationship_managers").replace("\n", "\r").encode()}, committed=False),
    Case("st_crlf_lines", "structure", ("relationship_managers",), "loaded",
         lambda: {RM: base("relationship_managers").replace("\n", "\r\n").encode()}, committed=False),
    # values
    Case("val_formula_injection", "values", ("core_customers",), "quarantined",
         utf8(CUST, with_cell("core_customers", 2, "address", '=HYPERLINK("http://x.example")')),
         "formula_injection", quarantined=(2,), overrides={"core_customers": LENIENT}),
    one_bad_cell("val_id_checksum", "core_customers", 1, "id_no", "222425197411285430", "id_no_checksum"),
    one_bad_cell("val_uscc_checksum", "core_corporates", 2, "uscc", "9144030388097462XA", "uscc_checksum"),
    Case("val_card_luhn", "values", ("card_customers",), "quarantined",
         lambda: {CARD: _gbk(with_cell("card_customers", 1, "CARD_NO", "4380886336484139"))}, "card_no_luhn",
         quarantined=(1,), overrides={"card_customers": LENIENT}, committed=False),
    one_bad_cell("val_impossible_date", "core_customers", 3, "open_date", "2010-02-30", "date_valid"),
    one_bad_cell("val_future_date", "core_corporates", 1, "open_date", "2031-01-01", "date_not_future"),
    one_bad_cell("val_negative_amount", "core_corporates", 3, "reg_capital", "-5000.00", "amount_non_negative"),
    Case("val_negative_amount_no_budget", "values", ("core_corporates",), "gate_refused",
         utf8(CORP, with_cell("core_corporates", 3, "reg_capital", "-5000.00")), "amount_non_negative", CORP,
         quarantined=(3,), overrides={"core_corporates": {"error_budget": 0.0}}),
    one_bad_cell("val_decimal_comma", "core_corporates", 1, "reg_capital", '"12,50"', "number_ambiguous"),
    Case("val_decimal_comma_configured", "values", ("core_corporates",), "loaded",
         utf8(CORP, base("core_corporates").replace("48360000.00", '"48.360.000,00"')
              .replace("7190000.00", '"7190000,5"').replace("7080000.00", "7080000")),
         overrides={"core_corporates": {"decimal_separator": ",", "thousands_separator": "."}}),
    Case("val_full_width_amount", "values", ("core_corporates",), "loaded",
         utf8(CORP, with_cell("core_corporates", 2, "reg_capital", "７１９００００．００"))),
    Case("val_nan_inf", "values", ("core_corporates",), "quarantined",
         utf8(CORP, with_cell("core_corporates", 1, "reg_capital", "inf").replace("7190000.00", "NaN")
              .replace("7080000.00", "1e309")), "number_valid", quarantined=(1, 2, 3),
         overrides={"core_corporates": {"error_budget": 1.0}}),
    # keys
    Case("key_duplicate_in_file", "keys", ("relationship_managers",), "quarantined",
         utf8(RM, base("relationship_managers").replace("RM00003,", "RM00001,", 1)), "source_key_unique",
         quarantined=(1, 3), overrides={"relationship_managers": LENIENT}),
    Case("key_duplicate_across_chunks", "keys", ("core_customers",), "quarantined", utf8(CUST, _chunks_apart()),
         "source_key_unique", quarantined=(1, 5), overrides={"core_customers": LENIENT}, chunk_rows=2),
    Case("key_shared_by_two_customer_files", "keys", ("core_customers", "core_corporates", "accounts"),
         "quarantined", _across_files, "owner_known", quarantined=(3, 4),
         overrides={"accounts": LENIENT}),
    # files
    Case("file_empty", "files", ("relationship_managers",), "refused", lambda: {RM: b""}, "empty_file", RM,
         committed=False),
    Case("file_header_only", "files", ("core_customers",), "refused", utf8(CUST, _header_only("core_customers")),
         "min_rows", CUST),
    Case("file_truncated_without_trailer", "files", ("core_customers",), "refused",
         utf8(CUST, _truncated("core_customers")), "control_missing", CUST, overrides={"core_customers": TRAILER}),
    Case("file_directory", "files", ("relationship_managers",), "refused", dict, "regular_file", RM,
         committed=False, special="directory"),
    Case("file_dangling_symlink", "files", ("relationship_managers",), "refused", dict, "regular_file", RM,
         committed=False, special="dangling_link"),
    Case("file_wrong_name", "files", ("relationship_managers",), "refused",
         utf8("relationship_manager.csv", base("relationship_managers")), "file_present", RM),
    Case("file_parquet_valid", "files", ("relationship_managers",), "loaded",
         lambda: {"relationship_managers.parquet": _parquet(base("relationship_managers"))},
         overrides={"relationship_managers": {"format": "parquet", "path": "{as_of}/relationship_managers.parquet"}},
         committed=False),
    Case("file_parquet_broken", "files", ("relationship_managers",), "refused",
         lambda: {"relationship_managers.parquet": _parquet(base("relationship_managers"), broken=True)},
         "parquet_format", "relationship_managers.parquet",
         overrides={"relationship_managers": {"format": "parquet", "path": "{as_of}/relationship_managers.parquet"}},
         committed=False),
    Case("file_csv_named_parquet", "files", ("relationship_managers",), "refused",
         utf8("relationship_managers.parquet", base("relationship_managers")), "parquet_format",
         "relationship_managers.parquet",
         overrides={"relationship_managers": {"format": "parquet", "path": "{as_of}/relationship_managers.parquet"}}),
]


def materialise(case: Case, day: Path) -> None:
    """Write the landing files of ``case`` into the day folder ``day``."""
    day.mkdir(parents=True, exist_ok=True)
    if case.special == "directory":
        (day / RM).mkdir()
        (day / RM / "part-1.csv").write_text(base("relationship_managers"), encoding="utf-8")
        return
    if case.special == "dangling_link":
        (day / RM).symlink_to(day / "gone" / RM)
        return
    if case.committed:
        for path in sorted(case.folder.iterdir()):
            shutil.copyfile(path, day / path.name)
        return
    for name, data in case.files().items():
        (day / name).write_bytes(data)


def write_text_cases(root: Path = CORPUS) -> list[Path]:
    """(Re)write the committed text cases under ``root``; returns the files written."""
    written = []
    for case in CASES:
        if not case.committed:
            continue
        folder = root / case.name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for name, data in case.files().items():
            (folder / name).write_bytes(data)
            written.append(folder / name)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-text", action="store_true", help="rewrite the committed text cases")
    parser.add_argument("--out", type=Path, help="write every case's landing day under this folder")
    args = parser.parse_args(argv)
    if args.write_text:
        print(f"{len(write_text_cases())} files written under {CORPUS}")
    if args.out:
        for case in CASES:
            materialise(case, args.out / case.name)
        print(f"{len(CASES)} cases written under {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
