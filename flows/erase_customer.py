"""The ``erase-customer`` flow: a customer's right to deletion (PIPL art. 47).

Takes a customer *reference* — flow parameters are stored and shown in the UI,
so never a name, ID number or mobile — destroys the customer's data key in the
key store (crypto-shredding), clears their PII from the main database, keeps
the facts AML rules require, and records an ``erasures`` row. Running it again
for the same customer is harmless and says the customer was already erased.
"""

from __future__ import annotations

from prefect import flow

from tasks.protection import erase_customer_data, publish_summary


@flow(name="erase-customer", log_prints=False, persist_result=False)
def erase_customer(customer_ref: str, requested_by: str, reason: str) -> dict[str, object]:
    """Erase one customer's personal data.

    Args:
        customer_ref: the customer reference, e.g. CUS0000000042 (never a name, ID number or mobile).
        requested_by: who asked for the erasure (staff id or ticket owner); recorded.
        reason: why, e.g. the request ticket number; recorded. Do not put personal data here.
    """
    result = erase_customer_data(customer_ref, requested_by, reason)
    publish_summary("customer-erasure", f"Erasure of {customer_ref}", dict(result))
    return result
