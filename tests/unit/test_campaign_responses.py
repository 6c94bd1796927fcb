"""Campaign responses on hand-made frames: a contact naming a campaign answers the latest message in the window."""

from __future__ import annotations

import pandas as pd

from lifecycle.care.responses import match_responses, response_counts


def _messages() -> pd.DataFrame:
    return pd.DataFrame({"message_id": [10, 11, 12, 13], "customer_id": [1, 1, 2, 3],
                         "campaign": ["loyalty_offer", "loyalty_offer", "birthday", "loyalty_offer"],
                         "channel": ["email", "email", "sms", "email"],
                         "sent_at": pd.to_datetime(["2026-05-01 09:00", "2026-06-01 09:00", "2026-06-01 09:00",
                                                    "2026-06-01 09:00"])})


def _contacts(rows: list[tuple[str, int, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame({"interaction_id": [r[0] for r in rows], "customer_id": [r[1] for r in rows],
                         "campaign_code": [r[2] for r in rows],
                         "interaction_time": pd.to_datetime([r[3] for r in rows]), "outcome": [r[4] for r in rows]})


def test_a_contact_answers_the_latest_message_of_its_campaign_sent_before_it() -> None:
    contacts = _contacts([("I1", 1, "loyalty_offer", "2026-06-03 10:00", "INTERESTED"),  # -> 11, not 10
                          ("I2", 1, "loyalty_offer", "2026-05-20 10:00", "DECLINED"),  # -> 10
                          ("I3", 2, "birthday", "2026-06-01 08:00", "COMPLETED")])  # before the message: nothing
    responses = match_responses(_messages(), contacts, window_days=30)
    assert dict(zip(responses["interaction_id"], responses["message_id"], strict=True)) == {"I1": 11, "I2": 10}


def test_outside_the_window_another_campaign_or_another_customer_answers_nothing() -> None:
    contacts = _contacts([("I1", 3, "loyalty_offer", "2026-07-02 09:00", "PURCHASED"),  # 31 days after 13
                          ("I2", 2, "loyalty_offer", "2026-06-02 09:00", "PURCHASED"),  # 2 got a birthday greeting
                          ("I3", 4, "loyalty_offer", "2026-06-02 09:00", "PURCHASED")])  # 4 got nothing
    assert match_responses(_messages(), contacts, window_days=30).empty
    assert match_responses(_messages(), contacts.iloc[:1], window_days=31)["message_id"].tolist() == [13]


def test_a_message_answered_twice_is_one_response_positive_if_either_was() -> None:
    contacts = _contacts([("I1", 1, "loyalty_offer", "2026-06-02 09:00", "DECLINED"),
                          ("I2", 1, "loyalty_offer", "2026-06-05 09:00", "PURCHASED"),
                          ("I3", 3, "loyalty_offer", "2026-06-05 09:00", "NO_ANSWER")])
    messages = _messages()
    counts = response_counts(messages, match_responses(messages, contacts, window_days=30))
    assert counts.loc[("loyalty_offer", "email")].tolist() == [2, 1]  # messages 11 and 13; only 11 positively
    assert counts.loc[("birthday", "sms")].tolist() == [0, 0]
