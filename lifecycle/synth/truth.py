"""Ground truth: planted personas, identities, flaws and the run manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from lifecycle.synth.config import FileSummary, SynthConfig
from lifecycle.synth.formatting import fen_to_decimal, prefixed_numbers
from lifecycle.synth.landing import FlawLog
from lifecycle.synth.people import Identity
from lifecycle.synth.population import CORPORATE, PERSONAS, TIERS, Population, value_tier
from lifecycle.synth.timeline import dates_before
from lifecycle.synth.writer import CsvSink

TRUTH_DIR = "truth"


def person_ids(n: int) -> pa.Array:
    return prefixed_numbers("P", np.arange(n, dtype=np.int64), 8)


def customers_table(pop: Population, aum_fen: npt.NDArray[np.int64], ident: Identity | None = None) -> pa.Table:
    """One row per real customer with the planted stage, tier and risks, and for the care
    campaigns' checks the relationship start (``open_date``) and, of individuals, birth
    date, gender and surname as the bank's systems of record hold them."""
    tier = value_tier(aum_fen / 100.0)
    individual = pop.kind != CORPORATE
    extra: dict[str, pa.Array] = {}
    if ident is not None:
        none = pa.scalar(None, pa.string())
        mask = pa.array(individual)
        extra = {
            "open_date": pa.array(dates_before(pop.as_of, pop.open_days)),
            "birth_date": pc.if_else(mask, pa.array(ident.birth.astype("datetime64[D]")),
                                     pa.scalar(None, pa.date32())),
            "gender": pc.if_else(mask, pa.array(np.where(ident.male, "M", "F").astype(object), pa.string()), none),
            "surname": pc.if_else(mask, ident.surname, none),
        }
    return pa.table({
        "person_id": person_ids(pop.n),
        "customer_type": pa.array(np.where(pop.kind == CORPORATE, "corporate", "individual")
                                  .astype(object), pa.string()),
        "persona_stage": pa.array(np.array(PERSONAS, dtype=object)[pop.persona], pa.string()),
        "value_tier": pa.array(np.array(TIERS, dtype=object)[tier], pa.string()),
        "aum_as_of": fen_to_decimal(aum_fen),
        "credit_risk": pa.array(np.where(pop.credit_high, "high", "low").astype(object), pa.string()),
        "aml_risk": pa.array(np.where(pop.aml_high, "high", "low").astype(object), pa.string()),
        **extra,
    })


def identities_table(keys: dict[str, list[pa.Array]], flaws: FlawLog) -> pa.Table:
    """(person_id, source, source_key, flawed): same person_id = same customer.

    ``keys`` maps a source to per-person key arrays (nulls where the person
    has no record). ``flawed`` is ``Y`` when a row with that key carries a
    planted flaw; evaluations should leave such records out.
    """
    parts: list[pa.Table] = []
    for source, arrays in keys.items():
        flawed = flaws.flawed_keys(source)
        for array in arrays:
            valid = array.is_valid()
            ids = pc.filter(person_ids(len(array)), valid)
            key = pc.filter(array, valid)
            parts.append(pa.table({
                "person_id": ids,
                "source": pa.array([source] * len(key), pa.string()),
                "source_key": key,
                "flawed": pc.if_else(pc.is_in(key, value_set=flawed), "Y", "N"),
            }))
    table = pa.concat_tables(parts)
    return table.sort_by([("person_id", "ascending"), ("source", "ascending")])


def write_table(out: Path, name: str, table: pa.Table) -> FileSummary:
    sink = CsvSink(out, f"{TRUTH_DIR}/{name}", f"truth:{name}", table.column_names, "utf-8")
    for batch in table.to_batches(max_chunksize=500_000):
        sink.write(pa.Table.from_batches([batch]))
    return sink.close()


def write_manifest(
    out: Path, config: SynthConfig, mode: str, files: list[FileSummary], flaws: FlawLog,
    extra: dict[str, Any],
) -> Path:
    """``truth/manifest.json``: arguments, row counts and SHA-256 of every file."""
    manifest = {
        "generator": "lifecycle.synth",
        "mode": mode,
        "seed": config.seed,
        "args": config.manifest_args(),
        **extra,
        "files": {
            f.path: {"source": f.source, "rows": f.rows, "bytes": f.bytes,
                     "encoding": f.encoding, "sha256": f.sha256}
            for f in files
        },
        "file_flaws": flaws.file_level,
    }
    path = out / TRUTH_DIR / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def population_stats(pop: Population, aum_fen: npt.NDArray[np.int64]) -> dict[str, Any]:
    tier = value_tier(aum_fen / 100.0)
    return {
        "personas": {p: int((pop.persona == i).sum()) for i, p in enumerate(PERSONAS)},
        "value_tiers": {t: int((tier == i).sum()) for i, t in enumerate(TIERS)},
        "aml_high": int(pop.aml_high.sum()),
        "credit_high": int(pop.credit_high.sum()),
    }
