"""Vectorised builders for Chinese identifiers.

* Resident ID numbers (GB 11643-1999) whose area code was a county in the
  birth year according to python-stdnum's own table (``stdnum/cn/loc.dat``),
  so every generated number passes ``stdnum.cn.ric.validate``.
* Unified social credit codes (GB 32100-2015) with a valid organisation code
  (GB 11714) inside and the MOD 31 check character.
* Luhn-valid card numbers and unique mainland mobile numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from stdnum import numdb

from lifecycle.synth.formatting import U8Matrix, ascii_to_arrow, digits_matrix
from lifecycle.synth.rng import affine_permutation

IntArray = npt.NDArray[np.int64]

RIC_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
RIC_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = np.array(
    [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64
)
ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
MOBILE_PREFIXES = np.array(
    [130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 145, 147, 150, 151, 152, 153,
     155, 156, 157, 158, 159, 166, 170, 171, 173, 175, 176, 177, 178, 180, 181, 182,
     183, 184, 185, 186, 187, 188, 189, 191, 193, 195, 196, 197, 198, 199],
    dtype=np.int64,
)
CARD_BINS = np.array([622588, 438088, 622609, 625802], dtype=np.int64)

_USCC_VALUE = np.full(128, -1, dtype=np.int64)
for _i, _c in enumerate(USCC_ALPHABET):
    _USCC_VALUE[ord(_c)] = _i
_USCC_CODES = np.frombuffer(USCC_ALPHABET.encode("ascii"), dtype=np.uint8)


@dataclass(frozen=True)
class AreaTable:
    """County codes with the years in which stdnum accepts them."""

    codes: IntArray
    first_year: IntArray
    last_year: IntArray

    def valid_in(self, year: int) -> npt.NDArray[np.bool_]:
        return (self.first_year <= year) & (self.last_year >= year)


@lru_cache(maxsize=1)
def area_table() -> AreaTable:
    """Read python-stdnum's ``cn/loc`` database (the validator's own truth).

    Only county-level codes (not ending in ``00``) are kept, as on real cards.
    A code listed with several periods is valid in any of them.
    """
    codes: list[int] = []
    first: list[int] = []
    last: list[int] = []
    for _, low, high, _, children in numdb.get("cn/loc").prefixes:
        for province in range(int(low), int(high) + 1):
            for _, clow, chigh, props, _ in children:
                for county in range(int(clow), int(chigh) + 1):
                    code = province * 10000 + county
                    if code % 100 == 0 or "county" not in props:
                        continue
                    for entry in props["county"].split(","):
                        start, end = 0, 9999
                        if entry.startswith("["):
                            span = entry[1:].split("]")[0]
                            s, e = span.split("-")
                            start, end = int(s or 0), int(e or 9999)
                        codes.append(code)
                        first.append(start)
                        last.append(end)
    return AreaTable(
        np.array(codes, dtype=np.int64),
        np.array(first, dtype=np.int64),
        np.array(last, dtype=np.int64),
    )


def draw_area_codes(
    rng: np.random.Generator, birth_years: IntArray, home_provinces: tuple[int, ...]
) -> IntArray:
    """One area code per person that stdnum accepts for that birth year.

    About half of the people are drawn from the bank's home provinces.
    """
    table = area_table()
    out = np.zeros(len(birth_years), dtype=np.int64)
    local = rng.random(len(birth_years)) < 0.5
    province = table.codes // 10000
    is_home = np.isin(province, np.array(home_provinces, dtype=np.int64))
    for year in np.unique(birth_years):
        valid = table.valid_in(int(year))
        for want_home in (True, False):
            rows = np.flatnonzero((birth_years == year) & (local == want_home))
            if len(rows) == 0:
                continue
            pool = table.codes[valid & is_home] if want_home else table.codes[valid]
            out[rows] = rng.choice(pool, size=len(rows))
    return out


def ric_digits(area: IntArray, birth_yyyymmdd: IntArray, sequence: IntArray) -> U8Matrix:
    """The 17 body digits of resident ID numbers as ASCII codes."""
    body = np.empty((len(area), 17), dtype=np.uint8)
    body[:, :6] = digits_matrix(area, 6)
    body[:, 6:14] = digits_matrix(birth_yyyymmdd, 8)
    body[:, 14:] = digits_matrix(sequence, 3)
    return body


def ric_check_chars(body: U8Matrix) -> npt.NDArray[np.uint8]:
    """ISO 7064 MOD 11-2 check characters (ASCII codes) for 17-digit bodies."""
    total = (body[:, :17].astype(np.int64) - ord("0")) @ RIC_WEIGHTS
    return np.asarray(RIC_CHECK[total % 11], dtype=np.uint8)


def build_ric(area: IntArray, birth_yyyymmdd: IntArray, sequence: IntArray) -> pa.Array:
    """Complete 18-character resident ID numbers."""
    body = ric_digits(area, birth_yyyymmdd, sequence)
    full = np.empty((len(area), 18), dtype=np.uint8)
    full[:, :17] = body
    full[:, 17] = ric_check_chars(body)
    return ascii_to_arrow(full)


def unique_ric_keys(
    rng: np.random.Generator, area: IntArray, birth: IntArray, male: npt.NDArray[np.bool_]
) -> IntArray:
    """Sequence numbers (odd for men) making every (area, birth, seq) unique."""
    seq = np.zeros(len(area), dtype=np.int64)
    todo = np.arange(len(area))
    while len(todo):
        k = rng.integers(0, 500, len(todo))
        seq[todo] = np.where(male[todo], 2 * k + 1, 2 * np.maximum(k, 1))
        key = (area * 100_000_000 + birth) * 1000 + seq
        _, first = np.unique(key, return_index=True)
        dup = np.ones(len(key), dtype=bool)
        dup[first] = False
        todo = np.flatnonzero(dup)
    return seq


def organisation_codes(rng: np.random.Generator, n: int) -> U8Matrix:
    """GB 11714 organisation codes (8 characters + check) in the USCC alphabet.

    Newer registrations start with ``MA``; older ones are all digits.
    """
    body = rng.integers(0, 10, (n, 8)) + ord("0")
    modern = rng.random(n) < 0.6
    letters = _USCC_CODES[rng.integers(0, len(_USCC_CODES), (n, 6))]
    body[modern, 0] = ord("M")
    body[modern, 1] = ord("A")
    body[modern, 2:] = letters[modern]
    value = np.where(body >= ord("A"), body - ord("A") + 10, body - ord("0"))
    check = 11 - (value @ ORG_WEIGHTS) % 11
    check_char = np.where(check == 10, ord("X"), np.where(check == 11, ord("0"), check + ord("0")))
    out = np.empty((n, 9), dtype=np.uint8)
    out[:, :8] = body
    out[:, 8] = check_char
    return out


def uscc_check_chars(body: U8Matrix) -> npt.NDArray[np.uint8]:
    """GB 32100 MOD 31 check characters for 17-character bodies."""
    values = _USCC_VALUE[body[:, :17]]
    return np.asarray(_USCC_CODES[(31 - (values @ USCC_WEIGHTS) % 31) % 31], dtype=np.uint8)


def build_uscc(rng: np.random.Generator, region: IntArray) -> pa.Array:
    """Unified social credit codes: ``9`` + entity type + region + org code + check."""
    n = len(region)
    body = np.empty((n, 17), dtype=np.uint8)
    body[:, 0] = ord("9")
    body[:, 1] = np.where(rng.random(n) < 0.9, ord("1"), ord("2"))
    body[:, 2:8] = digits_matrix(region, 6)
    body[:, 8:17] = organisation_codes(rng, n)
    full = np.empty((n, 18), dtype=np.uint8)
    full[:, :17] = body
    full[:, 17] = uscc_check_chars(body)
    return ascii_to_arrow(full)


def luhn_check_digits(body: U8Matrix) -> npt.NDArray[np.uint8]:
    """Luhn check digits (ASCII) for bodies of any width."""
    digits = body.astype(np.int64) - ord("0")
    doubled = np.zeros(digits.shape[1], dtype=bool)
    doubled[::-1][::2] = True  # rightmost body digit is doubled
    d = np.where(doubled, digits * 2, digits)
    d = np.where(d > 9, d - 9, d)
    return np.asarray((10 - d.sum(axis=1) % 10) % 10 + ord("0"), dtype=np.uint8)


def build_card_numbers(rng: np.random.Generator, card_index: IntArray) -> pa.Array:
    """Unique 16-digit Luhn-valid card numbers on the bank's BINs."""
    serial = affine_permutation(rng, card_index, 10**9)
    bins = CARD_BINS[rng.integers(0, len(CARD_BINS), len(card_index))]
    body = np.empty((len(card_index), 15), dtype=np.uint8)
    body[:, :6] = digits_matrix(bins, 6)
    body[:, 6:] = digits_matrix(serial, 9)
    full = np.empty((len(card_index), 16), dtype=np.uint8)
    full[:, :15] = body
    full[:, 15] = luhn_check_digits(body)
    return ascii_to_arrow(full)


def unique_mobiles(rng: np.random.Generator, index: IntArray) -> IntArray:
    """Distinct 11-digit mainland mobile numbers for distinct indexes."""
    modulus = len(MOBILE_PREFIXES) * 10**8
    x = affine_permutation(rng, index, modulus)
    return MOBILE_PREFIXES[x // 10**8] * 10**8 + x % 10**8


def mobile_strings(mobiles: IntArray) -> pa.Array:
    return ascii_to_arrow(digits_matrix(mobiles, 11))
