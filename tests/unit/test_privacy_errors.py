"""The error hierarchy: messages name the place, survive pickling, and hold no plaintext."""

from __future__ import annotations

import pickle

from lifecycle.errors import ConfigError, DecryptionError, KeyringError, LifecycleError, SourceError


def test_source_error_names_file_row_column_and_rule() -> None:
    err = SourceError("customers.csv", 12, "mobile", "mobile_format", "not a mainland mobile number")
    assert str(err) == "file customers.csv, row 12, column mobile, rule mobile_format: not a mainland mobile number"
    assert (err.file, err.row, err.column, err.rule) == ("customers.csv", 12, "mobile", "mobile_format")


def test_source_error_leaves_out_what_is_unknown() -> None:
    assert str(SourceError("x.csv", None, None, "file_present", "missing")) == "file x.csv, rule file_present: missing"
    assert str(SourceError(None, None, None, None, "empty")) == "empty"


def test_decryption_error_is_a_keyring_error_naming_its_context() -> None:
    err = DecryptionError("cannot decrypt field", table="customers", column="mobile", customer_id=42)
    assert isinstance(err, KeyringError) and isinstance(err, LifecycleError)
    assert str(err) == "cannot decrypt field (table=customers, column=mobile, customer_id=42)"


def test_errors_survive_pickling_with_their_attributes() -> None:
    for err in (SourceError("f.csv", 3, "c", "r", "m"), DecryptionError("m", "t", "c", 7),
                ConfigError("bad config"), KeyringError("no key")):
        clone = pickle.loads(pickle.dumps(err))
        assert type(clone) is type(err) and str(clone) == str(err)
