"""Features as of a date: what each customer holds, does and risks, computed in bulk from the store.

``reader`` (SQL over the store and its history, per customer partition) →
``compute`` (pure pandas: frames in, one row per customer out) → ``service``
(stores them per customer, as-of date and feature-set version). Features read
the store, never the integration package; every input is as it was on the
as-of date (validity ranges for current-state tables, dated events).
"""
