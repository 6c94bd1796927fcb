"""The composition root: one :class:`Context` wires settings, databases, keys, sources and the gate.

Everything that runs the platform — the Prefect tasks, the command line, the
benchmark, the tests — builds its context here, with :func:`build_context`.
Every part can be injected (a keyring from a Prefect Secret block, a fake
quality gate, a fixed clock, an engine of the test's own); what is not
injected comes from the settings. Heavy or secret parts are made on first use:
a command that reads no PII never needs the keyring, and the GX context (a few
seconds to start) is opened only by what validates.

Building a context checks, it never changes: the main database's schema must
be at the code's head revision and the key store must have its tables —
otherwise a clear error says to run ``bank-lifecycle db upgrade``
(:func:`upgrade_stores`). A SQLite file that does not exist is refused, not
created, and a database that cannot be reached is one line naming it and its
setting. Log redaction of PII is installed on every build.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cached_property

from sqlalchemy import Engine

from lifecycle.care.config import CareRuleSet, load_care_rules
from lifecycle.clock import Clock, SystemClock
from lifecycle.decisioning.rules import RuleSet, load_rules
from lifecycle.errors import ConfigError, KeyringError
from lifecycle.integration.ports import QualityGate
from lifecycle.integration.quality.agreement import load_agreeing_sources
from lifecycle.integration.sources import SourcesConfig
from lifecycle.privacy.keyring import Keyring, load_keyring
from lifecycle.privacy.redaction import install_redaction
from lifecycle.protection.erasure_log import ErasureLog, replay_erasure_log
from lifecycle.segments.config import LabelRuleSet, load_label_rules
from lifecycle.settings import Settings, get_settings
from lifecycle.store.db import check_schema, make_engine, missing_sqlite_file, reaching, upgrade
from lifecycle.store.keystore import KeyStore

log = logging.getLogger(__name__)

KeyringSource = Keyring | Callable[[], Keyring]


def keyring_from_settings(settings: Settings) -> Keyring:
    """The keyring from ``LIFECYCLE_KEYRING`` / ``LIFECYCLE_KEYRING_FILE``.

    A keyring in a Prefect Secret block (``LIFECYCLE_KEYRING_BLOCK``) is read by the
    orchestration layer and injected; the domain never talks to Prefect.
    """
    try:
        return load_keyring()
    except KeyringError as exc:
        if settings.keyring_block:
            raise KeyringError(f"{exc} (LIFECYCLE_KEYRING_BLOCK names a Prefect Secret block, which only the "
                               "flows read: outside them export the keyring as LIFECYCLE_KEYRING or mount it "
                               "as LIFECYCLE_KEYRING_FILE)") from None
        raise


class Context:
    """The platform's parts for one process (or one test)."""

    def __init__(self, settings: Settings, engine: Engine, keystore: KeyStore, sources: SourcesConfig,
                 clock: Clock, keyring: KeyringSource | None = None, gate: QualityGate | None = None,
                 rules: RuleSet | None = None, care_rules: CareRuleSet | None = None) -> None:
        self.settings = settings
        self.engine = engine
        self.keystore = keystore
        self.sources = sources
        self.clock = clock
        self._keyring = keyring
        self._gate = gate
        self._rules = rules
        self._care_rules = care_rules

    @cached_property
    def rules(self) -> RuleSet:
        return self._rules or load_rules(self.settings.rules_file)

    @cached_property
    def care_rules(self) -> CareRuleSet:
        return self._care_rules or load_care_rules(self.settings.care_rules_file)

    @cached_property
    def label_rules(self) -> LabelRuleSet:
        return load_label_rules(self.settings.labels_file)

    @property
    def partitions(self) -> int:
        return self.settings.partitions

    @cached_property
    def keyring(self) -> Keyring:
        source = self._keyring
        if isinstance(source, Keyring):
            return source
        return source() if source is not None else keyring_from_settings(self.settings)

    @cached_property
    def gate(self) -> QualityGate:
        if self._gate is not None:
            return self._gate
        from lifecycle.integration.quality import QualityGate as GxGate  # GX is slow to import

        return GxGate(self.settings.resolved_gx_dir, self.settings.data_docs_dir, self.settings.resolved_suites_dir)

    def dispose(self) -> None:
        """Close the database connections (the benchmark and tests build many contexts)."""
        self.engine.dispose()
        self.keystore.engine.dispose()


def build_context(settings: Settings | None = None, *, engine: Engine | None = None,
                  keystore: KeyStore | None = None, keyring: KeyringSource | None = None,
                  gate: QualityGate | None = None, clock: Clock | None = None,
                  sources: SourcesConfig | None = None, rules: RuleSet | None = None,
                  care_rules: CareRuleSet | None = None, check: bool = True) -> Context:
    """A context from ``settings`` (default: the environment's), with any part injected.

    With ``check`` (the default) the main database must be at the schema's head
    revision and the key store must have its tables. Sources read from the settings'
    file are refused unless every source's suite agrees with its configuration
    (:mod:`lifecycle.integration.quality.agreement`); injected ones are the caller's.
    """
    install_redaction()
    settings = settings or get_settings()
    engine = engine or _open(settings, settings.resolved_database_url, "database_url", check)
    if check:
        with reaching(engine, "LIFECYCLE_DATABASE_URL"):
            check_schema(engine)
    keystore = keystore or KeyStore(_open(settings, settings.resolved_keystore_url, "keystore_url", check))
    if check:
        with reaching(keystore.engine, "LIFECYCLE_KEYSTORE_URL"):
            keystore.check_schema()
    if sources is None:  # loaded here, so held to its suites here: before any file is read
        sources = load_agreeing_sources(settings.sources_file, settings.resolved_suites_dir)
    ctx = Context(settings, engine, keystore, sources,
                  clock or SystemClock(), keyring, gate, rules, care_rules)
    if check:
        replay_erasures_on_start(ctx)
    return ctx


def erasure_log(settings: Settings) -> ErasureLog:
    return ErasureLog(settings.resolved_erasure_log_file)


def replay_erasures_on_start(ctx: Context) -> None:
    """Re-apply the erasure log before anything is read: a restored backup must not bring PII back."""
    result = replay_erasure_log(ctx.engine, ctx.keystore, erasure_log(ctx.settings), ctx.clock.now())
    if result.erased_again or result.keys_destroyed:
        log.warning("erasure log replayed after a restore: %d customer(s) erased again, %d key(s) destroyed",
                    len(result.erased_again), result.keys_destroyed)


def _open(settings: Settings, url: str, field: str, check: bool) -> Engine:
    """An engine for ``url`` (the setting ``field``); with ``check``, only onto an existing SQLite file."""
    if check:
        refuse_a_new_sqlite_file(settings, url, field)
    return make_engine(url)


def refuse_a_new_sqlite_file(settings: Settings, url: str, field: str) -> None:
    """Refuse to open a SQLite database that does not exist: opening would create an empty one.

    Run from another folder with the default home (``./var``), a command would
    otherwise make a new, empty ``var/`` there and answer "no customer". The
    message names the file and the setting that led to it.
    """
    path = missing_sqlite_file(url)
    if path is None:
        return
    variable = f"LIFECYCLE_{field.upper()}"
    fix = ("set LIFECYCLE_HOME to the platform's home folder (the demo's is var/ in its checkout), or run "
           "`bank-lifecycle db upgrade` to create a new one there")
    if field in settings.model_fields_set:
        why, fix = f"{variable} names it", f"correct {variable}, or run `bank-lifecycle db upgrade` to create it"
    elif "home" in settings.model_fields_set:
        why = f"{variable} is not set, so it is under LIFECYCLE_HOME={settings.home}"
    else:
        why = f"neither {variable} nor LIFECYCLE_HOME is set, so it is under ./var of the current folder"
    raise ConfigError(f"no database at {path.resolve()} ({why}): {fix}")


def upgrade_stores(settings: Settings | None = None) -> tuple[str, str]:
    """Migrate the main database to head and create the key store's tables (idempotent).

    Returns the two databases' URLs (passwords hidden), for the operator's log.
    """
    settings = settings or get_settings()
    engine = make_engine(settings.resolved_database_url)
    keystore = KeyStore(make_engine(settings.resolved_keystore_url))
    try:
        with reaching(engine, "LIFECYCLE_DATABASE_URL"):
            upgrade(engine)
        with reaching(keystore.engine, "LIFECYCLE_KEYSTORE_URL"):
            keystore.create_schema()
        return (engine.url.render_as_string(hide_password=True),
                keystore.engine.url.render_as_string(hide_password=True))
    finally:
        engine.dispose()
        keystore.engine.dispose()
