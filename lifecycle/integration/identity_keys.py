"""Identity rules by configuration, and the blind-indexed match keys they compare.

The ``identity`` block of the sources configuration names the rules per kind of
customer, strongest first; records sharing the key of any rule are one customer
(:mod:`lifecycle.integration.identity`). Every key is a keyed hash (blind index)
of a normalised value, never the value:

=================  ===========================================  ========================
rule               value                                        normalised
=================  ===========================================  ========================
id_no              national ID number that passes the validator  GB 11643 check (built in,
                                                                 vectorised) or a
                                                                 ``stdnum.<cc>.<module>``
                                                                 (``is_valid``/``compact``)
passport           ``passport_no``, or ``id_no`` of type PASSPORT  upper case, no spaces
email              ``email``                                      lower case
customer_key       ``customer_key`` (a key several systems share)  trimmed
name_birth_date    ``name`` + ``birth_date``                      name case-folded
name_mobile        ``name`` + a valid mobile                      see mobile
mobile             a valid mobile                                 ``phone_region`` CN:
                                                                 ``1[3-9]`` + 9 digits
                                                                 (vectorised); any other
                                                                 region: ``phonenumbers``,
                                                                 E.164
uscc               unified social credit code (corporates)        clear: not personal
=================  ===========================================  ========================

With a non-CN ``phone_region`` the mobiles of the records are kept in E.164, so the
golden record's key and the next day's records' keys are of one form. Validators
other than the built-in run once per distinct value.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from types import ModuleType
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from lifecycle.privacy.blind_index import blind_index_series
from lifecycle.privacy.keyring import Keyring

MatchRule = Literal["id_no", "name_mobile", "mobile", "uscc", "email", "passport", "customer_key",
                    "name_birth_date"]
RULE_KEYS: dict[str, str] = {"id_no": "id_no_bidx", "name_mobile": "name_mobile_bidx", "mobile": "mobile_bidx",
                             "uscc": "uscc", "email": "email_bidx", "passport": "passport_bidx",
                             "customer_key": "customer_key_bidx", "name_birth_date": "name_birth_date_bidx"}
GB11643 = "gb11643"
CN_MOBILE = r"1[3-9]\d{9}"
_STDNUM = re.compile(r"stdnum(\.[a-z_][a-z0-9_]*){1,2}")


def stdnum_module(name: str) -> ModuleType:
    """The python-stdnum module ``name`` (``stdnum.es.dni``); ValueError when it is not one."""
    if not _STDNUM.fullmatch(name):
        raise ValueError(f"validator {name!r}: write {GB11643} or a python-stdnum module, e.g. stdnum.es.dni")
    try:
        module = importlib.import_module(name)
    except ImportError:
        raise ValueError(f"validator {name!r}: python-stdnum has no such module") from None
    if not callable(getattr(module, "is_valid", None)) or not callable(getattr(module, "compact", None)):
        raise ValueError(f"validator {name!r}: the module has no is_valid() and compact()")
    return module


class NationalId(BaseModel):
    """How national ID numbers (``id_no``) are validated before they may link customers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    validator: str = Field(default=GB11643, description="gb11643 (built in) or stdnum.<country>.<module>")

    @field_validator("validator")
    @classmethod
    def _known(cls, value: str) -> str:
        if value != GB11643:
            stdnum_module(value)
        return value


class IdentityRules(BaseModel):
    """Match rules per kind of customer, strongest first: records sharing any of these
    keys are one customer (see the module's table)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    individual: tuple[MatchRule, ...] = Field(default=("id_no", "name_mobile"), min_length=1)
    corporate: tuple[MatchRule, ...] = Field(default=("uscc",), min_length=1)
    national_id: NationalId = Field(default_factory=NationalId)
    phone_region: str = Field(default="CN", description="region of mobiles written without a country code")

    @field_validator("phone_region")
    @classmethod
    def _region(cls, value: str) -> str:
        if value != "CN":
            import phonenumbers

            if value not in phonenumbers.SUPPORTED_REGIONS:
                raise ValueError(f"phone_region {value!r} is not a region phonenumbers knows (ISO 3166 alpha-2)")
        return value

    def keys(self, entity: str) -> tuple[str, ...]:
        """The record columns the rules of ``entity`` match on."""
        return tuple(RULE_KEYS[r] for r in getattr(self, entity))

    @property
    def all_keys(self) -> frozenset[str]:
        return frozenset(self.keys("individual") + self.keys("corporate"))


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame else pd.Series(None, index=frame.index, dtype=object)


def _nones(values: pd.Series) -> pd.Series:
    """Object values with None (not NaN) where missing."""
    return pd.Series(values.to_numpy(dtype=object, na_value=None), index=values.index, dtype=object)


def _per_value(values: pd.Series, function: Callable[[str], str | None]) -> pd.Series:
    """``function`` once per distinct present value (None where the value is missing)."""
    mapping = {v: function(str(v)) for v in values.dropna().unique()}
    return _nones(values.map(mapping).where(values.notna(), None))


def _stdnum_normaliser(name: str) -> Callable[[str], str | None]:
    module = stdnum_module(name)

    def normalise(value: str) -> str | None:
        return str(module.compact(value)) if module.is_valid(value) else None
    return normalise


def _phone_normaliser(region: str) -> Callable[[str], str | None]:
    import phonenumbers

    def normalise(value: str) -> str | None:
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            return None
        if not phonenumbers.is_valid_number(number):
            return None
        return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return normalise


def valid_mobiles(mobile: pd.Series, region: str) -> pd.Series:
    """Valid mobiles in their matching form, missing elsewhere (CN: as cleaned; others: E.164)."""
    if region == "CN":
        ok = mobile.astype("string").str.fullmatch(CN_MOBILE).fillna(False).astype(bool)
        return mobile.where(ok, None)  # the hot default path: missing may be NaN, as blind indexes accept
    return _per_value(mobile, _phone_normaliser(region))


def national_ids(frame: pd.DataFrame, flags: pd.DataFrame, validator: str) -> pd.Series:
    """Valid national ID numbers in compact form, missing elsewhere (passports are not national IDs)."""
    id_no = _column(frame, "id_no")
    if validator == GB11643:  # the standardiser's vectorised check
        return id_no.where(_column(flags, "chk_id_no_checksum").eq(True), None)
    not_passport = _column(frame, "id_type").astype(object).ne("PASSPORT")
    return _per_value(id_no.where(not_passport, None), _stdnum_normaliser(validator))


def passports(frame: pd.DataFrame) -> pd.Series:
    """``passport_no``, else an ``id_no`` whose ``id_type`` is PASSPORT; upper case without spaces."""
    typed = _column(frame, "id_no").where(_column(frame, "id_type").astype(object).eq("PASSPORT"), None)
    value = _column(frame, "passport_no").astype(object).where(_column(frame, "passport_no").notna(), typed)
    return _nones(value.astype("string").str.replace(r"\s+", "", regex=True).str.upper())


def name_birth_dates(name: pd.Series, birth_date: pd.Series) -> pd.Series:
    """``casefolded name|YYYY-MM-DD`` where both are present (dates as Timestamps or ISO text)."""
    day = pd.to_datetime(birth_date, errors="coerce")
    text = day.dt.strftime("%Y-%m-%d")
    folded = name.astype("string").str.casefold()
    return _nones((folded.astype(object) + "|" + text.astype(object)).where(name.notna() & day.notna(), None))


def add_record_keys(records: pd.DataFrame, flags: pd.DataFrame, identity: IdentityRules,
                    keyring: Keyring) -> None:
    """Add the blind-indexed match keys to one source's standardised records (in place);
    ``flags`` holds the standardiser's ``chk_*`` pass flags of the same rows.

    The keys of the default rules are always added; the others only when a rule uses them.
    Normalised values replace their column where the golden record is built from them
    (mobiles in E.164 outside CN, compact national IDs, passports), so that the golden
    record's keys are of the records' form."""
    national = national_ids(records, flags, identity.national_id.validator)
    if identity.national_id.validator != GB11643 and "id_no" in records:
        records["id_no"] = national.where(national.notna(), records["id_no"])
    records["id_no_bidx"] = blind_index_series(keyring, "id_no", national)
    mobile = valid_mobiles(_column(records, "mobile"), identity.phone_region)
    if identity.phone_region != "CN" and "mobile" in records:
        records["mobile"] = mobile.where(mobile.notna(), records["mobile"])
    records["mobile_bidx"] = blind_index_series(keyring, "mobile", mobile)
    name = _column(records, "name")
    records["name_mobile_bidx"] = blind_index_series(
        keyring, "name_mobile", (name.astype(object) + "|" + mobile.astype(object)).where(
            mobile.notna() & name.notna(), None))
    wanted = identity.all_keys
    if "email_bidx" in wanted:
        records["email_bidx"] = blind_index_series(keyring, "email", _column(records, "email"))
    if "passport_bidx" in wanted:
        records["passport_no"] = passports(records)
        records["passport_bidx"] = blind_index_series(keyring, "passport", records["passport_no"])
    if "customer_key_bidx" in wanted:
        key = _column(records, "customer_key")
        records["customer_key_bidx"] = blind_index_series(keyring, "customer_key", key.astype("string").str.strip()
                                                          .astype(object).where(key.notna(), None))
    if "name_birth_date_bidx" in wanted:
        records["name_birth_date_bidx"] = blind_index_series(
            keyring, "name_birth_date", name_birth_dates(name, _column(records, "birth_date")))
    for absent in wanted - set(records.columns):  # a source without the key's column (uscc): the others match
        records[absent] = None


def golden_keys(wide: pd.DataFrame, identity: IdentityRules, keyring: Keyring) -> dict[str, pd.Series]:
    """The configured keys beyond the default ones, from a batch's winning plaintext values
    (``wide``: customer_id × attribute), for the golden records."""
    def col(name: str) -> pd.Series:
        return wide[name] if name in wide else pd.Series(None, index=wide.index, dtype=object)

    wanted, out = identity.all_keys, {}
    if "email_bidx" in wanted:
        out["email_bidx"] = blind_index_series(keyring, "email", col("email"))
    if "passport_bidx" in wanted:
        out["passport_bidx"] = blind_index_series(keyring, "passport", col("passport_no"))
    if "customer_key_bidx" in wanted:
        out["customer_key_bidx"] = blind_index_series(keyring, "customer_key", col("customer_key"))
    if "name_birth_date_bidx" in wanted:
        out["name_birth_date_bidx"] = blind_index_series(
            keyring, "name_birth_date", name_birth_dates(col("name"), col("birth_date")))
    return out
