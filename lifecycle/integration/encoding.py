"""Which codec reads a text extract, or where and why none does.

Strict UTF-8 is tried first when the source says UTF-8 or auto; GBK extracts are
decoded as GB18030 (a superset holding rare name characters GBK lacks). A declared
encoding is never silently swapped, because UTF-8 bytes read as GBK turn into
mojibake without an error (南京 becomes 鍗椾含):

* a file declared GBK that is wholly valid UTF-8 with non-ASCII text, or that
  starts with a UTF-8 byte-order mark, is refused as UTF-8;
* a line of UTF-8 inside a GBK file is refused, naming the line: either its bytes
  are not GBK at all, or they decode as GBK into characters outside GB2312 while as
  UTF-8 they are common Chinese text (a GBK line made of GB2312 characters — nearly
  every line — is never suspected);
* UTF-16 and UTF-32 (byte-order mark, or every other byte zero) are named as such.

Errors name the file, the data row (line minus one), the column and the rule
``encoding``; never a byte of the file, since it may be personal data.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

import charset_normalizer

from lifecycle.errors import SourceError

BLOCK = 1 << 20
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")
GBK_NAMES = ("gbk", "gb2312", "gb18030", "hz")
# Two or more UTF-8 encoded CJK ideographs in a row: where a UTF-8 line in a GBK file shows.
_UTF8_CJK_RUN = re.compile(rb"(?:[\xe4-\xe9][\x80-\xbf]{2}){2,}")


def _error(path: Path, line_no: int | None, column: str | None, message: str) -> SourceError:
    row = None if line_no is None else line_no - 1
    return SourceError(str(path), row, column, "encoding", message)


def _lines_before(path: Path, offset: int) -> tuple[int, int]:
    """(1-based line number, byte offset within that line) of byte ``offset``."""
    line_no, start, seen = 1, 0, 0
    with path.open("rb") as fh:
        while seen < offset and (block := fh.read(min(BLOCK, offset - seen))):
            newlines = block.count(b"\n")
            if newlines:
                line_no += newlines
                start = seen + block.rfind(b"\n") + 1
            seen += len(block)
    return line_no, offset - start


def column_at(path: Path, offset: int, delimiter: str, header_codec: str = "utf-8") -> tuple[int, str | None]:
    """(line number, header name of the column) holding byte ``offset`` of the file.

    The line's bytes before the offset are split as CSV (quotes respected); the
    header is decoded leniently, and a name is given only for a data line."""
    line_no, in_line = _lines_before(path, offset)
    with path.open("rb") as fh:
        header = fh.readline()
        line = header
        for _ in range(line_no - 1):
            line = fh.readline()
    if line_no == 1:
        return line_no, None
    prefix = line[:in_line].decode("latin-1")  # one character per byte: only delimiters and quotes count
    index = len(next(csv.reader([prefix], delimiter=delimiter), [""])) - 1
    text = header.decode(header_codec, errors="replace").lstrip("\ufeff").rstrip("\r\n")
    names = [n.strip() for n in next(csv.reader([text], delimiter=delimiter), [])]
    return line_no, (names[index] if 0 <= index < len(names) else None)


def _wide_unicode(path: Path, head: bytes) -> str | None:
    """'UTF-16' or 'UTF-32' when the file is one, by its byte-order mark or its zeros."""
    if head.startswith(UTF32_BOMS):
        return "UTF-32"
    if head.startswith(UTF16_BOMS):
        return "UTF-16"
    sample = head[:4096]
    if len(sample) >= 8 and (sample[1::2].count(0) > len(sample) // 4 or sample[0::2].count(0) > len(sample) // 4):
        return "UTF-16"
    return None


def _head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(4096)


def _line_blocks(path: Path) -> Iterator[tuple[int, bytes]]:
    """(offset, bytes) of ``path`` in blocks of whole lines (the last may lack its line feed).

    Neither UTF-8 nor GB18030 has a line feed or carriage return inside a multi-byte
    character, so a block cut after one splits no character."""
    base, carry = 0, b""
    with path.open("rb") as fh:
        while block := fh.read(BLOCK):
            data = carry + block
            cut = max(data.rfind(b"\n"), data.rfind(b"\r")) + 1
            if cut:
                yield base, data[:cut]
            base, carry = base + cut, data[cut:]
    if carry:
        yield base, carry


def _first_bad_offset(path: Path, codec: str) -> int | None:
    """Byte offset of the first byte ``codec`` cannot decode strictly, or None."""
    for base, lines in _line_blocks(path):
        try:
            lines.decode(codec)
        except UnicodeDecodeError as exc:
            return base + exc.start
    return None


def _utf8_line_at(lines: bytes, base: int) -> int | None:
    """Offset of the first UTF-8 line among the GBK ``lines`` (starting at ``base``), or None."""
    for match in _UTF8_CJK_RUN.finditer(lines):
        start = lines.rfind(b"\n", 0, match.start()) + 1
        end = lines.find(b"\n", match.end())
        if _utf8_line_in_gbk(lines[start:end if end >= 0 else len(lines)]):
            return base + match.start()
    return None


def _utf8_line_in_gbk(line: bytes) -> bool:
    """Whether a line of a GBK file is really UTF-8 (see the module's docstring)."""
    try:
        as_utf8 = line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    try:
        as_gbk = line.decode("gb18030")
    except UnicodeDecodeError:
        return True
    return _in_gb2312(as_utf8) and not _in_gb2312(as_gbk)


def _in_gb2312(text: str) -> bool:
    try:
        text.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _check_gbk(path: Path, delimiter: str) -> None:
    """Refuse a file declared GBK that holds UTF-8 (wholly or line by line) or is not GBK."""
    if _first_bad_offset(path, "utf-8") is None:  # wholly UTF-8: refused at its first non-ASCII byte
        non_ascii_at = next((base + next(i for i, b in enumerate(lines) if b >= 0x80)
                             for base, lines in _line_blocks(path) if not lines.isascii()), None)
        if non_ascii_at is None:
            return  # plain ASCII reads alike in both
        line_no, column = column_at(path, non_ascii_at, delimiter)
        raise _error(path, line_no, column, "the file is UTF-8, but the source is declared GBK (read as GBK its "
                     "text would be garbled); set `encoding: utf-8` for this source or re-export it as GBK")
    bad = _first_bad_offset(path, "gb18030")
    if bad is not None:
        line_no, column = column_at(path, bad, delimiter, "gb18030")
        hint = ": the line is UTF-8 in a GBK file (mixed encodings); re-export the file as GBK" \
            if _line_is_utf8(path, line_no) else ""
        raise _error(path, line_no, column, f"not valid GBK/GB18030 (line {line_no} of the file){hint}")
    suspect_at = next((at for base, lines in _line_blocks(path) if (at := _utf8_line_at(lines, base)) is not None),
                      None)
    if suspect_at is not None:
        line_no, column = column_at(path, suspect_at, delimiter, "gb18030")
        raise _error(path, line_no, column, f"line {line_no} of the file is UTF-8 in a GBK file (mixed encodings: "
                     "read as GBK its text would be garbled); re-export the file as GBK")


def _line_is_utf8(path: Path, line_no: int) -> bool:
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if number == line_no:
                return not line.isascii() and _utf8_line_in_gbk(line.rstrip(b"\r\n"))
    return False


def resolve_encoding(path: Path, declared: str, delimiter: str = ",") -> str:
    """The Python codec to read ``path`` with, or a SourceError naming where it breaks."""
    head = _head(path)
    wide = _wide_unicode(path, head)
    if wide:
        raise _error(path, None, None, f"the file is {wide} (not the declared {declared.upper()}); "
                     "re-export it as UTF-8 or GBK")
    if declared in ("gbk", "gb18030"):
        if head.startswith(UTF8_BOM):
            raise _error(path, 1, None, "the file starts with a UTF-8 byte-order mark: it is UTF-8, but the "
                         "source is declared GBK; set `encoding: utf-8` for this source or re-export it as GBK")
        _check_gbk(path, delimiter)
        return "gb18030"
    bad = _first_bad_offset(path, "utf-8")
    if bad is None:
        return "utf-8-sig" if head.startswith(UTF8_BOM) else "utf-8"
    if declared == "auto":
        best = charset_normalizer.from_path(path).best()
        if best is None:
            line_no, column = column_at(path, bad, delimiter)
            raise _error(path, line_no, column, "cannot detect the file's encoding")
        name = best.encoding.lower()
        return "gb18030" if name in GBK_NAMES else name
    line_no, column = column_at(path, bad, delimiter)
    with path.open("rb") as fh:
        truncated = fh.seek(0, 2) - bad <= 3 and not _tail_is_complete(path, bad)
    hint = ""
    if truncated:
        hint = "; the file ends inside a multi-byte character: it is truncated"
    elif looks_gbk(path):
        hint = "; the bytes decode as GBK/GB18030: set `encoding: gbk` for this source or re-export as UTF-8"
    else:
        hint = "; the bytes are neither UTF-8 nor GBK (Latin-1 or Windows-1252?): re-export the file as UTF-8"
    raise _error(path, line_no, column, f"not valid {declared.upper()} (line {line_no} of the file){hint}")


def looks_gbk(path: Path) -> bool:
    """Whether the file decodes as GB18030 into mostly common (GB2312) Chinese text
    (judged on its first block; this runs only once the file is refused)."""
    if _first_bad_offset(path, "gb18030") is not None:
        return False
    _, first = next(_line_blocks(path))
    wide = [c for c in first.decode("gb18030") if ord(c) > 0x7F]
    return bool(wide) and sum(_in_gb2312(c) for c in wide) >= 0.95 * len(wide)


def _tail_is_complete(path: Path, offset: int) -> bool:
    with path.open("rb") as fh:
        fh.seek(offset)
        tail = fh.read()
    try:
        tail.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.reason != "unexpected end of data"
    return True
