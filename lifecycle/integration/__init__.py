"""Integration: source extracts in, one golden record per customer and the day's facts out.

Planning and bookkeeping, reading and standardising, the quality gate (GX) and
the quarantine, identity resolution and survivorship, protection at load, and
the day's one-transaction load. :func:`lifecycle.integration.service.run_day`
composes them; nothing outside this package knows the order of the steps.
Decisions and care never import this package: they read the store.
"""
