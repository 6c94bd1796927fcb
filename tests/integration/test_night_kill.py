"""The night after integration killed at any point (SIGKILL) and re-run ends where an uninterrupted night does.

The day is integrated once for the module. Each case copies that home (both
SQLite databases, reports), runs one phase of the night in a child process that
kills itself at a kill point (tests/support/killpoints.py ``NIGHT_POINTS``),
runs the phase again plainly, and compares the whole store with an
uninterrupted run of the same phase from the same start (tests/support/store_snapshot.py:
every table's content checksum, every customer's PII decrypted):

* decide — features, models, decisions, labels and groups, retention tasks,
  loyalty points, the RMs' digests into the outbox and their dispatch to a
  local HTTP gateway: identical decisions, every digest delivered, none twice
  but the one the channel accepted in the instant before the kill (same
  ``Idempotency-Key``: the outbox's documented at-least-once window);
* rotate — every key ends on the new master version, nothing needs the old one,
  the killed rotation is recorded ``interrupted``;
* erase — the customer's PII cleared, their data key destroyed, the rest untouched.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from lifecycle.bootstrap import build_context
from lifecycle.care.config import load_care_rules
from lifecycle.privacy.keyring import Keyring, generate_keyring, write_keyring
from lifecycle.protection.rotation import versions_in_use
from lifecycle.settings import Settings
from lifecycle.store.models import Customer, DecisionRun, Erasure, KeyRotation, OutboxMessage
from tests.support.http_sink import HttpSink
from tests.support.killpoints import NIGHT_POINTS
from tests.support.store_snapshot import StoreSnapshot, snapshot

AS_OF = date(2026, 6, 30)
ROOT = Path(__file__).resolve().parents[2]
DAY_CHILD = ROOT / "tests" / "support" / "run_day_child.py"
NIGHT_CHILD = ROOT / "tests" / "support" / "night_child.py"
# Tables whose rows record the attempts themselves (leases, workers, attempt counts, rotations run):
# compared by what they must end in, not row by row.
ATTEMPT_TABLES = {"outbox", "delivery_attempts", "key_rotations"}
# An erased customer's cards get random references in place of the card number's blind index.
RANDOM_CARD_REFS = frozenset({"cards", "card_transactions"})
pytestmark = [pytest.mark.slow, pytest.mark.reliability]


def _phase(prefix: str) -> list[str]:
    return sorted(n for n in NIGHT_POINTS if n.startswith(prefix))


DECIDE_POINTS = [*_phase("decide-"), *_phase("labels-"), *_phase("retention-"), *_phase("loyalty-"),
                 *_phase("digests-")]
ROTATE_POINTS = _phase("rotate-")
ERASE_POINTS = _phase("erase-")


@dataclass(frozen=True)
class Home:
    path: Path
    env: dict[str, str]

    @property
    def settings(self) -> Settings:
        return Settings(home=self.path, landing_dir=Path(self.env["LIFECYCLE_LANDING_DIR"]))


def _home(path: Path, landing: Path, keyring_file: Path) -> Home:
    env = {**os.environ, "LIFECYCLE_HOME": str(path), "LIFECYCLE_LANDING_DIR": str(landing),
           "LIFECYCLE_KEYRING_FILE": str(keyring_file), "PYTHONPATH": str(ROOT)}
    for name in ("LIFECYCLE_DATABASE_URL", "LIFECYCLE_KEYSTORE_URL", "LIFECYCLE_KEYRING", "LIFECYCLE_NOTIFY_CONFIG"):
        env.pop(name, None)
    return Home(path, env)


def _clone(home: Home, path: Path) -> Home:
    shutil.copytree(home.path, path)
    return Home(path, {**home.env, "LIFECYCLE_HOME": str(path)})


def _run(home: Home, child: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(child), "--as-of", AS_OF.isoformat(), *args], env=home.env,
                          capture_output=True, text=True, timeout=900, check=False)


def _night(home: Home, phase: str, *args: str) -> subprocess.CompletedProcess[str]:
    return _run(home, NIGHT_CHILD, "--phase", phase, *args)


def _killed_and_rerun(home: Home, phase: str, point: str, *args: str, rerun: tuple[str, ...] = ()) -> None:
    killed = _night(home, phase, *args, "--kill-at", point)
    assert killed.returncode == -signal.SIGKILL, f"{point} was never reached: {killed.stderr[-2000:]}"
    again = _night(home, phase, *args, *rerun)
    assert again.returncode == 0, again.stderr[-2000:]


def _snapshot(home: Home, keyring: Keyring) -> StoreSnapshot:
    ctx = build_context(home.settings, keyring=keyring)
    try:
        return snapshot(ctx.engine, ctx.keystore, ctx.keyring)
    finally:
        ctx.dispose()


def _same_store(resumed: StoreSnapshot, reference: StoreSnapshot, *, counted: frozenset[str] = frozenset()
                ) -> None:
    """Equal content per table; ``counted`` tables only in their row counts (random tokens in them)."""
    assert resumed.undecryptable == []
    differing = sorted(t for t in reference.tables.keys() | resumed.tables.keys() if t not in ATTEMPT_TABLES
                       and (resumed.tables.get(t) if t not in counted else resumed.tables[t][0])
                       != (reference.tables.get(t) if t not in counted else reference.tables[t][0]))
    assert differing == []
    assert resumed.pii == reference.pii
    assert resumed.quarantine == reference.quarantine


def _rows(home: Home, statement: object) -> list[tuple[object, ...]]:
    ctx = build_context(home.settings, keyring=generate_keyring(development_only=True))
    try:
        with ctx.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(statement)]  # type: ignore[call-overload]
    finally:
        ctx.dispose()


def _gateway(path: Path, sink: HttpSink, tags: list[str]) -> Path:
    url = sink.url("/gateway").replace("http://", "json://")
    path.write_text(f'version: 1\nurls:\n  - "{url}":\n      tag: {", ".join(tags)}\n', encoding="utf-8")
    return path


def _delivered(sink: HttpSink) -> Counter[str]:
    return Counter(str(r.header("Idempotency-Key")) for r in sink.requests if r.status == 200)


@pytest.fixture(scope="module")
def keyring_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_keyring(generate_keyring(development_only=True), tmp_path_factory.mktemp("keys") / "keyring.json")


@pytest.fixture(scope="module")
def integrated(tmp_path_factory: pytest.TempPathFactory, generated_bank: Path, keyring_file: Path) -> Home:
    from lifecycle.bootstrap import upgrade_stores

    home = _home(tmp_path_factory.mktemp("night") / "integrated", generated_bank / "landing", keyring_file)
    home.path.mkdir()
    upgrade_stores(home.settings)
    done = _run(home, DAY_CHILD)
    assert done.returncode == 0, done.stderr[-2000:]
    return home


@dataclass(frozen=True)
class Night:
    home: Home  # integrated, decided, digests sent
    shot: StoreSnapshot
    tags: list[str]  # the digests' routes
    outbox: dict[str, str]  # message key -> status
    delivered: Counter[str]


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory, integrated: Home, keyring_file: Path) -> Iterator[Night]:
    root = tmp_path_factory.mktemp("night-reference")
    probe = _clone(integrated, root / "probe")  # a first night only to learn the digests' routes
    assert _night(probe, "decide").returncode == 0
    tags = sorted({str(t) for (route,) in _rows(probe, select(OutboxMessage.route)) for t in route})
    assert tags, "the night queued no digest"
    home = _clone(integrated, root / "home")
    with HttpSink() as sink:
        done = _night(home, "decide", "--notify", str(_gateway(root / "apprise.yml", sink, tags)))
        assert done.returncode == 0, done.stderr[-2000:]
        delivered = _delivered(sink)
    outbox = {str(k): str(s) for k, s in _rows(home, select(OutboxMessage.message_key, OutboxMessage.status))}
    assert set(outbox.values()) == {"sent"} and delivered == dict.fromkeys(outbox, 1)
    shot = _snapshot(home, Keyring.from_file(keyring_file))
    assert shot.tables["customer_decisions"][0] > 300 and shot.tables["retention_tasks"][0] > 0
    yield Night(home, shot, tags, outbox, delivered)


@pytest.mark.parametrize("point", DECIDE_POINTS)
def test_a_night_killed_while_deciding_and_rerun_decides_and_sends_as_an_uninterrupted_one(
        point: str, tmp_path: Path, integrated: Home, night: Night, keyring_file: Path) -> None:
    home = _clone(integrated, tmp_path / "home")
    lease = load_care_rules(home.settings.care_rules_file).rules.dispatcher.lease_seconds
    with HttpSink() as sink:
        notify = ("--notify", str(_gateway(tmp_path / "apprise.yml", sink, night.tags)))
        _killed_and_rerun(home, "decide", point, *notify, rerun=("--offset", str(lease + 60)))
        delivered = _delivered(sink)
    _same_store(_snapshot(home, Keyring.from_file(keyring_file)), night.shot)
    runs = [str(s) for (s,) in _rows(home, select(DecisionRun.status).where(DecisionRun.as_of == AS_OF))]
    # a night killed after its decisions committed decides the date again on the re-run: same rows
    assert "succeeded" in runs and set(runs) <= {"succeeded", "interrupted"}
    outbox = {str(k): str(s) for k, s in _rows(home, select(OutboxMessage.message_key, OutboxMessage.status))}
    assert outbox == night.outbox  # the same digests, every one sent
    assert set(delivered) == set(night.delivered)  # every digest reached the gateway ...
    repeats = {k: n for k, n in delivered.items() if n > 1}
    if point == "digests-after-send":  # ... once, but the one accepted in the instant before the kill
        assert len(repeats) == 1 and set(repeats.values()) == {2}
    else:
        assert repeats == {}


@pytest.fixture(scope="module")
def rotated_keyring(tmp_path_factory: pytest.TempPathFactory, keyring_file: Path) -> Path:
    return write_keyring(Keyring.from_file(keyring_file).with_new_version(),
                         tmp_path_factory.mktemp("keys-v2") / "keyring.json")


@pytest.fixture(scope="module")
def rotated(tmp_path_factory: pytest.TempPathFactory, night: Night, rotated_keyring: Path) -> StoreSnapshot:
    home = _clone(night.home, tmp_path_factory.mktemp("rotated") / "home")
    done = _night(home, "rotate", "--keyring-file", str(rotated_keyring))
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["stale"] == 0
    return _snapshot(home, Keyring.from_file(rotated_keyring))


@pytest.mark.parametrize("point", ROTATE_POINTS)
def test_a_rotation_killed_at_any_point_and_rerun_leaves_every_key_on_the_new_version(
        point: str, tmp_path: Path, night: Night, rotated_keyring: Path, rotated: StoreSnapshot) -> None:
    home = _clone(night.home, tmp_path / "home")
    _killed_and_rerun(home, "rotate", point, "--keyring-file", str(rotated_keyring))
    keyring = Keyring.from_file(rotated_keyring)
    new = keyring.active_version
    ctx = build_context(home.settings, keyring=keyring)
    try:
        in_use = versions_in_use(ctx.keystore)
    finally:
        ctx.dispose()
    assert {kind: set(counts) for kind, counts in in_use.items()} == {"customer_keys": {new}, "run_keys": {new}}
    only_new = keyring.without_version(min(keyring.master_keys))  # the old master key retired
    resumed = _snapshot(home, only_new)
    _same_store(resumed, rotated)
    assert resumed.pii == night.shot.pii  # nothing lost, nothing altered by re-wrapping
    statuses = sorted(str(s) for (s,) in _rows(home, select(KeyRotation.status)))
    assert statuses == ["interrupted", "succeeded"]


def _customer_to_erase(home: Home) -> tuple[int, str]:
    rows = _rows(home, select(Customer.customer_id, Customer.customer_ref).where(
        Customer.customer_type == "individual", Customer.name_enc.is_not(None)).order_by(Customer.customer_id))
    return int(rows[0][0]), str(rows[0][1])  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def erased(tmp_path_factory: pytest.TempPathFactory, night: Night, keyring_file: Path) -> StoreSnapshot:
    home = _clone(night.home, tmp_path_factory.mktemp("erased") / "home")
    _, ref = _customer_to_erase(home)
    done = _night(home, "erase", "--customer-ref", ref)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["key_destroyed"] is True
    return _snapshot(home, Keyring.from_file(keyring_file))


@pytest.mark.parametrize("point", ERASE_POINTS)
def test_an_erasure_killed_at_any_point_and_rerun_is_complete(
        point: str, tmp_path: Path, night: Night, keyring_file: Path, erased: StoreSnapshot) -> None:
    home = _clone(night.home, tmp_path / "home")
    customer_id, ref = _customer_to_erase(home)
    _killed_and_rerun(home, "erase", point, "--customer-ref", ref)
    resumed = _snapshot(home, Keyring.from_file(keyring_file))
    _same_store(resumed, erased, counted=RANDOM_CARD_REFS)
    assert night.shot.pii[customer_id] and resumed.pii.get(customer_id, {}) == {}
    ctx = build_context(home.settings, keyring=Keyring.from_file(keyring_file))
    try:
        assert ctx.keystore.customer_keys([customer_id]).empty  # crypto-shredded
    finally:
        ctx.dispose()
    assert len(_rows(home, select(Erasure.id))) == 1
