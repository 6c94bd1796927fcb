"""Campaign responses: which care messages a customer answered, from the interactions extract.

A contact whose ``campaign_code`` names a campaign (``loyalty_offer``,
``birthday`` …) answers that customer's latest message of the campaign sent at
or before the contact, at most ``response_window_days`` earlier
(:func:`match_responses`, vectorised with an as-of merge). A contact naming a
campaign that sent the customer nothing in the window answers nothing: it is
not counted. A message answered by several contacts is one response; it is
positive when any of them ended ``INTERESTED`` or ``PURCHASED``.

Derived when read, never stored: loading a corrected interactions file, or a
late one, changes the counts with no step to re-run.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Connection, select

from lifecycle.care.consent import CARE_KIND_PREFIX
from lifecycle.care.outbox import OUTBOX_TABLE
from lifecycle.status import OutboxStatus
from lifecycle.store.base import table_of
from lifecycle.store.frames import read_frame
from lifecycle.store.holdings import Interaction

POSITIVE_OUTCOMES = ("INTERESTED", "PURCHASED")
RESPONSE_COLUMNS = ["interaction_id", "message_id", "customer_id", "campaign", "responded_at", "outcome"]


def match_responses(messages: pd.DataFrame, contacts: pd.DataFrame, window_days: int) -> pd.DataFrame:
    """Each contact that answers a message: :data:`RESPONSE_COLUMNS`.

    ``messages``: ``message_id``, ``customer_id``, ``campaign``, ``sent_at`` (sent ones).
    ``contacts``: ``interaction_id``, ``customer_id``, ``campaign_code``, ``interaction_time``, ``outcome``.
    """
    if messages.empty or contacts.empty:
        return pd.DataFrame(columns=RESPONSE_COLUMNS)
    left = contacts.rename(columns={"campaign_code": "campaign", "interaction_time": "responded_at"}).assign(
        responded_at=lambda f: pd.to_datetime(f["responded_at"]), customer_id=lambda f: f["customer_id"]
        .astype("int64"), campaign=lambda f: f["campaign"].astype(str)).sort_values("responded_at")
    right = messages.assign(sent_at=pd.to_datetime(messages["sent_at"]), customer_id=messages["customer_id"]
                            .astype("int64"), campaign=messages["campaign"].astype(str)).sort_values("sent_at")
    matched = pd.merge_asof(left, right[["sent_at", "customer_id", "campaign", "message_id"]],
                            left_on="responded_at", right_on="sent_at", by=["customer_id", "campaign"],
                            direction="backward", tolerance=pd.Timedelta(days=window_days))
    matched = matched[matched["message_id"].notna()].assign(message_id=lambda f: f["message_id"].astype("int64"))
    return matched[RESPONSE_COLUMNS].sort_values(["message_id", "responded_at"]).reset_index(drop=True)


def response_counts(messages: pd.DataFrame, responses: pd.DataFrame) -> pd.DataFrame:
    """Per campaign and channel of ``messages`` (with ``channel``): messages responded to and
    positively responded to."""
    answered = responses.assign(positive=responses["outcome"].isin(POSITIVE_OUTCOMES)) \
        .groupby("message_id")["positive"].any()
    mine = messages.assign(responded=messages["message_id"].isin(answered.index),
                           positive=messages["message_id"].map(answered).fillna(False).astype(bool))
    return mine.groupby(["campaign", "channel"])[["responded", "positive"]].sum().astype(int)


def sent_messages(conn: Connection, day: date) -> pd.DataFrame:
    """The care messages planned for ``day`` that were sent: ``message_id``, ``customer_id``,
    ``campaign``, ``channel``, ``sent_at``."""
    o = OUTBOX_TABLE
    frame = read_frame(conn, select(o.c.id.label("message_id"), o.c.customer_id, o.c.kind, o.c.channel, o.c.sent_at)
                       .where(o.c.kind.like(f"{CARE_KIND_PREFIX}%"), o.c.as_of == day,
                              o.c.status == OutboxStatus.SENT, o.c.sent_at.is_not(None)))
    campaign = frame["kind"].astype(str).str.slice(len(CARE_KIND_PREFIX)) if len(frame) else frame["kind"]
    return frame.assign(campaign=campaign).drop(columns=["kind"])


def campaign_contacts(conn: Connection, messages: pd.DataFrame, window_days: int) -> pd.DataFrame:
    """The contacts that name one of ``messages``' campaigns, made by their customers in the window."""
    if messages.empty:
        return pd.DataFrame(columns=["interaction_id", "customer_id", "campaign_code", "interaction_time", "outcome"])
    t = table_of(Interaction)
    since = pd.to_datetime(messages["sent_at"]).min().to_pydatetime()
    until = since + pd.Timedelta(days=window_days + 1) + (pd.to_datetime(messages["sent_at"]).max() - since)
    frame = read_frame(conn, select(t.c.interaction_id, t.c.customer_id, t.c.campaign_code, t.c.interaction_time,
                                    t.c.outcome).where(t.c.campaign_code.in_(sorted(set(messages["campaign"]))),
                                                       t.c.interaction_time >= since, t.c.interaction_time < until))
    return frame[frame["customer_id"].isin(messages["customer_id"])]


def responses_for(conn: Connection, day: date, window_days: int) -> pd.DataFrame:
    """Responded and positively responded messages of ``day`` per campaign and channel."""
    messages = sent_messages(conn, day)
    responses = match_responses(messages, campaign_contacts(conn, messages, window_days), window_days)
    if messages.empty:
        return pd.DataFrame(columns=["responded", "positive"])
    return response_counts(messages, responses)
