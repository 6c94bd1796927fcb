"""What the send step adds to a customer's message: its context decrypted, the form of address, the signature.

A care message's context is stored encrypted under the customer's data key and
holds no name. Here, inside the send step and nowhere else, the context is
decrypted and the customer's name is decrypted to make the form of address
(李女士, Mr Li — :mod:`lifecycle.care.salutation`); both live only in memory,
for the rendering of that one message. A customer whose key is gone (erased)
gets nothing: the message fails permanently, naming why.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlalchemy import Engine, select

from lifecycle.care.outbox import ClaimedMessage
from lifecycle.care.salutation import address_of
from lifecycle.errors import ConfigError
from lifecycle.privacy.fields import decrypt_field
from lifecycle.privacy.keyring import Keyring
from lifecycle.store.keystore import KeyStore
from lifecycle.store.models import Customer

CONTEXT_TABLE, CONTEXT_COLUMN = "outbox", "context_enc"


class CustomerContexts:
    """The renderer's ``decrypt`` for customer messages (``keyring`` is asked for on the first one)."""

    def __init__(self, engine: Engine, keystore: KeyStore, keyring: Callable[[], Keyring],
                 signature: dict[str, str]) -> None:
        self._engine, self._keystore, self._keyring, self._signature = engine, keystore, keyring, signature

    def __call__(self, row: ClaimedMessage) -> str:
        if row.customer_id is None or row.context_enc is None:
            raise ConfigError(f"message {row.message_key} is not a customer message with an encrypted context")
        customer_id = int(row.customer_id)
        keys = self._keystore.existing_data_keys(self._keyring(), [customer_id])
        if customer_id not in keys:
            raise ConfigError(f"message {row.message_key}: the customer's data key is gone (erased)")
        dek = keys[customer_id]
        context = json.loads(decrypt_field(dek, row.context_enc, table=CONTEXT_TABLE, column=CONTEXT_COLUMN,
                                           customer_id=customer_id) or "{}")
        with self._engine.connect() as conn:
            person = conn.execute(select(Customer.name_enc, Customer.gender).where(
                Customer.customer_id == customer_id)).first()
        name = (decrypt_field(dek, person.name_enc, table="customers", column="name", customer_id=customer_id)
                if person is not None and person.name_enc is not None else None)
        context["address"] = address_of(name, person.gender if person is not None else None, row.locale)
        context["signature"] = self._signature.get(row.locale) or next(iter(self._signature.values()), "")
        return json.dumps(context, ensure_ascii=False)
