"""Finding one customer by reference, and the errors of protection requests.

Operators name a customer by ``customer_ref`` (``CUS`` + 10 digits), never by a
name, ID number or mobile: the reference is what flow parameters, audit rows and
logs may hold. A value that does not look like a reference is refused without
being repeated, because a mistyped parameter may be exactly the PII it should
not be.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, Row, select

from lifecycle.errors import LifecycleError
from lifecycle.store.models import Customer

CUSTOMER_REF = re.compile(r"CUS\d{10}")


class ProtectionError(LifecycleError):
    """A protection request was refused: bad reference, missing reason, erased customer…"""


class UnknownCustomerError(ProtectionError):
    """No customer has the given reference."""


def check_customer_ref(customer_ref: str) -> str:
    """``customer_ref`` unchanged when it is a customer reference; ProtectionError otherwise."""
    if not isinstance(customer_ref, str) or not CUSTOMER_REF.fullmatch(customer_ref):
        raise ProtectionError("customer_ref must be a customer reference such as CUS0000000042 "
                              "(the value given is not repeated: it may be personal data)")
    return customer_ref


def check_text(what: str, value: str, limit: int) -> str:
    """``value`` stripped; ProtectionError when blank or longer than ``limit`` characters."""
    text = (value or "").strip()
    if not text:
        raise ProtectionError(f"{what} is required")
    if len(text) > limit:
        raise ProtectionError(f"{what} is longer than {limit} characters")
    return text


def customer_row(conn: Connection, customer_ref: str) -> Row[Any]:
    """The customer's row (all columns); UnknownCustomerError when there is none."""
    check_customer_ref(customer_ref)
    row = conn.execute(select(Customer.__table__).where(Customer.customer_ref == customer_ref)).first()
    if row is None:
        raise UnknownCustomerError(f"no customer {customer_ref}")
    return row
