"""Log redaction: PII in any logger's records is replaced; amounts and dates survive."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecycle.privacy.redaction import (
    RedactingFilter,
    install_redaction,
    redact_record,
    redact_text,
    uninstall_redaction,
)

PII = {
    "id_no": ["11010119900307451X", "110101199003074514", "11010119900307451x", "110101 19900307 4514"],
    "mobile": ["13812345678", "+86 138 1234 5678", "+86-138-1234-5678", "8613812345678", "0086 13812345678"],
    "card_no": ["6222021234567890123", "6222 0212 3456 7890", "6222-0212-3456-7890-123", "3782 822463 10005"],
    "email": ["zhang.san@example.com", "13812345678@qq.com"],
}


@pytest.fixture
def redaction() -> Iterator[None]:
    original = logging.getLogRecordFactory()
    install_redaction()
    yield
    if logging.getLogRecordFactory() is not original:  # leave an earlier installation alone
        uninstall_redaction()
    assert logging.getLogRecordFactory() is original


@pytest.mark.parametrize(("kind", "value"), [(k, v) for k, vs in PII.items() for v in vs])
def test_each_kind_is_redacted_inside_chinese_and_english_text(kind: str, value: str) -> None:
    for text in (f"客户{value}的资料", f"value={value}, next", f"({value})", value):
        out = redact_text(text)
        assert value not in out and f"[REDACTED:{kind}]" in out


@pytest.mark.parametrize("text", [
    "amount 12345.67 CNY", "balance 1,234,567.89", "as of 2024-01-15 10:30:00.123456", "date 20240115",
    "large cash 50000.00 on 2026/06/30", "run 123e4567-e89b-12d3-a456-426614174000", "12 customers, 345 rows",
    "big amount 13812345678.00", "rule aum_drop_90d value -0.42 threshold -0.3", "branch 0101 rm R123",
])
def test_ordinary_numbers_survive(text: str) -> None:
    assert redact_text(text) == text


@settings(deadline=None)
@given(value=st.from_regex(r"\A1[3-9][0-9]{9}\Z") | st.from_regex(r"\A[1-9][0-9]{16}[0-9Xx]\Z"),
       before=st.sampled_from(["", " ", "客户", "id=", "(", "tel:"]),
       after=st.sampled_from(["", " ", "的", ",", ")", "。"]))
def test_generated_mobiles_and_ids_never_survive(value: str, before: str, after: str) -> None:
    out = redact_text(before + value + after)
    assert value not in out and out.startswith(before) and out.endswith(after)


@settings(deadline=None)
@given(amount=st.decimals(min_value=0, max_value=10**16, places=2, allow_nan=False, allow_infinity=False),
       day=st.dates())
def test_generated_amounts_and_dates_survive(amount: Decimal, day: date) -> None:
    text = f"paid {amount} CNY on {day:%Y-%m-%d} ({day:%Y%m%d}, {day:%Y/%m/%d})"
    assert redact_text(text) == text


def test_masked_style_shows_display_masks() -> None:
    out = redact_text("mobile 13812345678 id 11010119900307451X card 6222021234567890123 mail li@bank.cn",
                      masked=True)
    assert out == ("mobile 138****5678 id 1****************X card 622202*********0123 mail l***@bank.cn")


def _capture(logger: logging.Logger) -> tuple[logging.Handler, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return handler, stream


def test_prefect_logger_record_is_redacted_for_handlers_added_later(redaction: None) -> None:
    logger = logging.getLogger("prefect.flow_runs")
    handler, stream = _capture(logger)  # added after install_redaction
    try:
        logger.info("customer %s mobile %s paid %.2f on %s", "11010119900307451X", 13812345678,
                    12345.67, "2024-01-15")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "11010119900307451X" not in text and "13812345678" not in text
    assert text.startswith("prefect.flow_runs customer [REDACTED:id_no] mobile [REDACTED:mobile]")
    assert "paid 12345.67 on 2024-01-15" in text


def test_exception_text_is_redacted(redaction: None) -> None:
    logger = logging.getLogger("prefect.task_runs")
    handler, stream = _capture(logger)
    try:
        try:
            raise ValueError("no customer with mobile 13812345678 or mail li@bank.cn (amount 99.50)")
        except ValueError:
            logger.exception("lookup failed for %s", "6222021234567890123")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "ValueError: no customer with mobile [REDACTED:mobile] or mail [REDACTED:email]" in text
    assert "lookup failed for [REDACTED:card_no]" in text and "(amount 99.50)" in text
    for secret in ("13812345678", "li@bank.cn", "6222021234567890123"):
        assert secret not in text


def test_installing_twice_wraps_once(redaction: None) -> None:
    factory = logging.getLogRecordFactory()
    install_redaction()
    assert logging.getLogRecordFactory() is factory


def test_filter_redacts_records_that_bypass_the_factory() -> None:
    record = logging.makeLogRecord({"name": "prefect.flow_runs", "msg": "id %s", "args": ("11010119900307451X",),
                                    "levelno": logging.INFO, "levelname": "INFO"})
    assert RedactingFilter().filter(record) is True
    assert record.getMessage() == "id [REDACTED:id_no]"


def test_bad_format_args_are_kept_but_redacted() -> None:
    record = logging.makeLogRecord({"msg": "two %s %s", "args": ("13812345678",)})
    redact_record(record)
    assert "13812345678" not in record.getMessage() and "[REDACTED:mobile]" in record.getMessage()


def test_redaction_is_idempotent() -> None:
    text = "m 13812345678 id 11010119900307451X e li@bank.cn c 6222021234567890123"
    for masked in (False, True):
        once = redact_text(text, masked=masked)
        assert redact_text(once, masked=masked) == once
