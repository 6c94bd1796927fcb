"""Consent and the loyalty ledger on both back-ends: concurrent redemptions, opt-outs and the outbox."""

from __future__ import annotations

import threading
from datetime import date, datetime

import pandas as pd
import pytest
from sqlalchemy import Engine, select

from lifecycle.care.config import load_care_rules
from lifecycle.care.consent import consent_frame, set_consent
from lifecycle.care.loyalty import LoyaltyError, Redemption, _insert_entries, balance_of, reconcile, redeem
from lifecycle.care.outbox import NewMessage, enqueue
from lifecycle.status import OutboxStatus
from lifecycle.store.base import table_of
from lifecycle.store.db import make_engine, upgrade
from lifecycle.store.models import Customer, OutboxMessage
from lifecycle.store.upsert import upsert_frame

DAY = date(2026, 6, 30)
NOW = datetime(2026, 6, 30, 9, 0)


def _store(url: str) -> Engine:
    engine = make_engine(url)
    upgrade(engine)
    customers = pd.DataFrame({"customer_id": [1, 2], "customer_ref": ["CUS1", "CUS2"],
                              "customer_type": ["individual", "individual"], "marketing_consent": [True, False]})
    with engine.begin() as conn:
        upsert_frame(conn, table_of(Customer), customers)
    return engine


def test_two_redemptions_at_once_never_overdraw(database_url: str) -> None:
    engine = _store(database_url)
    rules = load_care_rules().rules.loyalty.model_copy(update={"rewards": {"voucher": 60}})
    with engine.begin() as conn:
        _insert_entries(conn, pd.DataFrame([{"entry_key": "earn:test:1", "customer_id": 1, "kind": "earn",
                                             "points": 100, "as_of": DAY, "source": "test", "reason": None}]), NOW)
    start = threading.Barrier(2)
    outcomes: list[Redemption | Exception] = []

    def attempt(request: str) -> None:
        start.wait()
        try:
            with engine.begin() as conn:
                outcomes.append(redeem(conn, 1, "voucher", request, rules, day=DAY, now=NOW))
        except LoyaltyError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=attempt, args=(f"REQ-{n}",)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    redeemed = [o for o in outcomes if isinstance(o, Redemption)]
    refused = [o for o in outcomes if isinstance(o, LoyaltyError)]
    assert len(redeemed) == 1 and len(refused) == 1 and "the balance is 40 points" in str(refused[0])
    with engine.connect() as conn:
        assert balance_of(conn, 1) == 40 and reconcile(conn) == []
    engine.dispose()


def _message(key: str, kind: str, channel: str) -> NewMessage:
    return NewMessage(message_key=key, kind=kind, channel=channel, route=(f"customer-{channel}",),
                      template=kind.removeprefix("care_"), locale="zh_CN", recipient="customer:1", as_of=DAY,
                      not_before=NOW, context_enc=b"sealed", customer_id=1)


def test_an_opt_out_withdraws_waiting_greetings_on_its_channel_only(database_url: str) -> None:
    engine = _store(database_url)
    with engine.begin() as conn:
        enqueue(conn, [_message("care:birthday:CUS1:2026-06-30", "care_birthday", "sms"),
                       _message("care:birthday:CUS1:2026-06-30:email", "care_birthday", "email"),
                       _message("rm:digest:CUS1", "rm_digest", "sms")], NOW)
    with engine.begin() as conn:
        change = set_consent(conn, "CUS1", ["sms"], False, source="branch", reference="FORM-7", now=NOW)
    assert change.cancelled == 1
    with engine.connect() as conn:
        statuses = dict(conn.execute(select(OutboxMessage.message_key, OutboxMessage.status)).all())
        frame = consent_frame(conn, ["sms", "email"]).set_index(["customer_id", "channel"])
    assert statuses == {"care:birthday:CUS1:2026-06-30": OutboxStatus.CANCELLED,
                        "care:birthday:CUS1:2026-06-30:email": OutboxStatus.PENDING,
                        "rm:digest:CUS1": OutboxStatus.PENDING}  # staff messages are not the customer's to refuse
    assert frame.loc[(1, "sms"), "why_not"] == "opted_out" and bool(frame.loc[(1, "email"), "consent"])
    assert frame.loc[(2, "sms"), "why_not"] == "no_consent"  # the source's flag says no
    with engine.begin() as conn:
        set_consent(conn, "CUS2", ["sms"], True, source="app", reference=None, now=NOW)
        with pytest.raises(Exception, match="no customer CUS9"):
            set_consent(conn, "CUS9", ["sms"], False, source="app", reference=None, now=NOW)
    with engine.connect() as conn:
        assert bool(consent_frame(conn, ["sms"]).set_index("customer_id").loc[2, "consent"])
    engine.dispose()
