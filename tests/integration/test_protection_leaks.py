"""No plaintext PII leaves the daily flow: database tables and files, Prefect logs and artifacts.

The daily flow runs once for the module on the generated bank. The needles are
the generator's own plaintext values, read from its landing files (card files
in GBK): resident ID numbers, 11-digit mobiles (and the formatted forms the
sources use), 16-digit card numbers, emails, and 3-character names — values
unambiguous enough that a hit means a leak. Names that also occur in clear,
non-personal text (RM and branch names, company names, feedback categories…)
are left out. Masked forms (138****5678) are not needles.

Hits are reported as "<file>: value #i", never as the value itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, inspect, select, text
from test_protection_support import flow_run_artifacts, flow_run_logs

from lifecycle.errors import DecryptionError
from lifecycle.integration.quality.leak_scan import scan_for_values
from lifecycle.privacy.envelope import unwrap_data_keys
from lifecycle.privacy.fields import decrypt_field
from lifecycle.privacy.keyring import Keyring
from lifecycle.store.keystore import KeyStore
from lifecycle.store.models import Customer, IngestionRun

AS_OF = date(2026, 6, 30)
pytestmark = [pytest.mark.slow, pytest.mark.reliability]  # make reliability (CI: .ci/run)

_ID = re.compile(r"\d{17}[\dXx]")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_CARD = re.compile(r"\d{16}")
_NAME = re.compile(r"[\u3400-\u9fff]{3}")
_SPACES = re.compile(r"[\s\u3000]+")


@dataclass(frozen=True)
class DailyRun:
    engine: Engine
    keystore: KeyStore
    keyring: Keyring
    home: Path
    landing: Path
    flow_run_id: str


@pytest.fixture(scope="module")
def daily_run(prefect_api: None, generated_bank: Path, tmp_path_factory: pytest.TempPathFactory,
              use_home: Callable[[pytest.MonkeyPatch, Path, Path], None]) -> Iterator[DailyRun]:
    from flows.daily import daily_lifecycle
    from tasks.context import flow_context, reset

    with pytest.MonkeyPatch.context() as mp:
        home = tmp_path_factory.mktemp("leak-home")
        use_home(mp, home, generated_bank / "landing")
        assert daily_lifecycle(AS_OF)["status"] == "succeeded"
        w = flow_context()
        with w.engine.connect() as conn:
            flow_run_id = conn.execute(select(IngestionRun.flow_run_id)).scalar_one()
        yield DailyRun(w.engine, w.keystore, w.keyring, home, generated_bank / "landing" / AS_OF.isoformat(),
                       str(flow_run_id))
        reset()


def _read(landing: Path, name: str) -> pd.DataFrame:
    encoding = "gb18030" if name.startswith("card_") else "utf-8"
    return pd.read_csv(landing / f"{name}.csv", dtype=str, encoding=encoding, keep_default_na=False)


def _mobile_forms(mobile: str) -> list[str]:
    """The spellings the sources use; prefixed ones (86…, +86 …) contain one of these."""
    a, b, c = mobile[:3], mobile[3:7], mobile[7:]
    return [mobile, f"{a}-{b}-{c}", f"{a} {b} {c}"]


def _clear_text(landing: Path) -> str:
    """Text that is stored in clear on purpose: every non-personal extract, company names."""
    personal = {"core_customers.csv", "card_customers.csv", "core_corporates.csv"}
    texts = [f.read_bytes().decode("gb18030" if f.name.startswith("card_") else "utf-8")
             for f in sorted(landing.glob("*.csv")) if f.name not in personal]
    return "\n".join([*texts, *_read(landing, "core_corporates")["corp_name"]])


def pii_values(landing: Path) -> list[str]:
    """The generator's plaintext PII values that must appear nowhere."""
    core = _read(landing, "core_customers")
    corporates = _read(landing, "core_corporates")
    cards = _read(landing, "card_customers")
    ids = [*core["id_no"], *cards["CERT_NO"], *[v.upper() for v in cards["CERT_NO"]]]
    mobiles = [re.sub(r"\D", "", v)[-11:] for v in (*core["mobile"], *corporates["contact_mobile"],
                                                    *cards["MOBILE_NO"])]
    names = [_SPACES.sub("", v) for v in (*core["cust_name"], *corporates["legal_rep_name"], *cards["CUST_NM"])]
    clear = _clear_text(landing)
    values = {
        *(v for v in ids if _ID.fullmatch(v)),
        *(form for m in mobiles if _MOBILE.fullmatch(m) for form in _mobile_forms(m)),
        *(v for v in cards["CARD_NO"] if _CARD.fullmatch(v)),
        *(v for v in (*core["email"], *cards["EMAIL_ADDR"]) if "@" in v),
        *(v for v in names if _NAME.fullmatch(v) and v not in clear),
    }
    return sorted(values)


@pytest.fixture(scope="module")
def needles(daily_run: DailyRun) -> list[str]:
    return pii_values(daily_run.landing)


def test_the_needles_are_many_and_the_scanner_finds_them_in_the_landing_files(
        daily_run: DailyRun, needles: list[str]) -> None:
    kinds = {"id": _ID, "mobile": _MOBILE, "card": _CARD, "name": _NAME}
    counts = {kind: sum(bool(p.fullmatch(v)) for v in needles) for kind, p in kinds.items()}
    assert min(counts.values()) >= 50, counts
    assert sum("@" in v for v in needles) >= 50
    assert len(scan_for_values([daily_run.landing / "core_customers.csv"], needles)) >= 4 * 300


def _dump_tables(engine: Engine, folder: Path) -> list[Path]:
    """Every table of the database, one file each: text as UTF-8, bytes as they are."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    with engine.connect() as conn:
        for table in inspect(engine).get_table_names():
            parts: list[bytes] = []
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                for value in row:
                    parts.append(value if isinstance(value, bytes) else str(value).encode("utf-8"))
            (folder / table).write_bytes(b"\x00".join(parts))
            files.append(folder / table)
    return files


def test_no_table_of_the_main_database_holds_plaintext_pii(daily_run: DailyRun, needles: list[str],
                                                           tmp_path: Path) -> None:
    files = _dump_tables(daily_run.engine, tmp_path / "tables")
    customers = (tmp_path / "tables" / "customers").read_bytes()
    assert b"****" in customers and len(customers) > 10_000  # the dump holds the masked, encrypted rows
    assert scan_for_values(files, needles) == []


def test_the_database_files_hold_no_plaintext_pii(daily_run: DailyRun, needles: list[str]) -> None:
    files = [Path(f"{daily_run.home / name}{suffix}") for name in ("lifecycle.db", "keystore.db")
             for suffix in ("", "-wal")]
    present = [f for f in files if f.exists()]
    assert daily_run.home / "lifecycle.db" in present
    assert scan_for_values(present, needles) == []


def test_the_flow_runs_logs_hold_no_plaintext_pii(daily_run: DailyRun, needles: list[str], tmp_path: Path) -> None:
    logs = flow_run_logs(daily_run.flow_run_id)
    assert len(logs) >= 10 and any("customers:" in m for m in logs)
    (tmp_path / "logs.txt").write_text("\n".join(logs), encoding="utf-8")
    assert scan_for_values([tmp_path / "logs.txt"], needles) == []


def test_the_flow_runs_artifacts_hold_no_plaintext_pii(daily_run: DailyRun, needles: list[str],
                                                       tmp_path: Path) -> None:
    artifacts = flow_run_artifacts(daily_run.flow_run_id)
    assert len(artifacts) >= 2 and any("core_customers" in a for a in artifacts)
    (tmp_path / "artifacts.txt").write_text("\n".join(artifacts), encoding="utf-8")
    assert scan_for_values([tmp_path / "artifacts.txt"], needles) == []


def test_a_ciphertext_swapped_between_two_customers_does_not_decrypt(daily_run: DailyRun) -> None:
    with daily_run.engine.connect() as conn:
        rows = conn.execute(select(Customer.customer_id, Customer.name_enc)
                            .where(Customer.customer_type == "individual", Customer.name_enc.is_not(None))
                            .order_by(Customer.customer_id).limit(2)).all()
    (a, a_name), (b, b_name) = rows
    wrapped = daily_run.keystore.customer_keys([a, b]).set_index("customer_id")["wrapped_key"]
    key_a, key_b = unwrap_data_keys(daily_run.keyring, [wrapped[a], wrapped[b]], [a, b])
    names = set(_read(daily_run.landing, "core_customers")["cust_name"])

    def decrypt(key: bytes, ciphertext: bytes, customer_id: int) -> str | None:
        return decrypt_field(key, ciphertext, table="customers", column="name", customer_id=customer_id)

    assert decrypt(key_a, a_name, a) in names and decrypt(key_b, b_name, b) in names
    for key, ciphertext, customer_id in ((key_a, b_name, a), (key_b, a_name, b),  # B's value in A's row
                                         (key_b, b_name, a), (key_a, a_name, b)):  # a key bound elsewhere
        with pytest.raises(DecryptionError):
            decrypt(key, ciphertext, customer_id)
