"""The platform's benchmark: the daily pipeline at fixed scales, against an I/O floor.

``python -m bench --scale S|M|L`` generates (or reuses) a synthetic bank, runs the
daily pipeline on a fresh database by calling :mod:`lifecycle.integration.service` directly
with the wiring the Prefect tasks use, and writes a Markdown and a JSON report
under ``var/bench/reports/``. See :mod:`bench.suite` for what one run measures and
:mod:`bench.report` for the targets it is judged against.
"""
