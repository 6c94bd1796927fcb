"""The landing zone writer: ids, flaws, encodings and dropped columns per source."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lifecycle.synth.config import FileSummary, SourceSpec, SynthConfig
from lifecycle.synth.flaws import plant_flaws
from lifecycle.synth.formatting import prefixed_numbers
from lifecycle.synth.rng import stream
from lifecycle.synth.writer import CsvSink, Frame, render_table

# Generated row identifiers: prefix and digit count.
ROW_IDS = {"transactions": ("txn_id", "T", 15), "card_transactions": ("TXN_REF", "CT", 14),
           "digital_activity": ("event_id", "EV", 14), "feedback": ("feedback_id", "FB", 12),
           "loans": ("loan_no", "LN", 12), "interactions": ("interaction_id", "IX", 14)}
SWAPPED_ENCODING = {"utf-8": "gbk", "gbk": "utf-8", "utf-8-sig": "gbk"}


@dataclass
class FlawLog:
    """Every planted flaw with its 1-based data row in the written file."""

    source: list[str] = field(default_factory=list)
    file: list[str] = field(default_factory=list)
    row: list[np.ndarray] = field(default_factory=list)
    key: list[pa.Array] = field(default_factory=list)
    column: list[str] = field(default_factory=list)
    flaw: list[str] = field(default_factory=list)
    rule: list[str] = field(default_factory=list)
    file_level: list[dict[str, str]] = field(default_factory=list)

    def frame(self) -> dict[str, pa.Array]:
        rows = np.concatenate(self.row) if self.row else np.zeros(0, dtype=np.int64)
        keys = pa.concat_arrays(self.key) if self.key else pa.array([], pa.string())
        order = pa.array(np.lexsort((rows, np.array(self.file, dtype=object).astype(str)))
                         if len(rows) else np.zeros(0, dtype=np.int64))
        return {k: v.take(order) for k, v in {
            "source": pa.array(self.source, pa.string()), "file": pa.array(self.file, pa.string()),
            "row": pa.array(rows.astype(np.int64)), "source_key": keys.cast(pa.string()),
            "column": pa.array(self.column, pa.string()), "flaw": pa.array(self.flaw, pa.string()),
            "rule": pa.array(self.rule, pa.string()),
        }.items()}

    def flawed_keys(self, source: str) -> pa.Array:
        """Source keys of ``source`` rows that carry a planted flaw."""
        table = self.frame()
        keep = pc.equal(table["source"], source)
        return pc.unique(pc.filter(table["source_key"], keep))


class Landing:
    """Writes one as-of folder: ``landing/YYYY-MM-DD/<file>.csv``."""

    def __init__(
        self, config: SynthConfig, sources: dict[str, SourceSpec], as_of: dt.date, id_tag: str = ""
    ) -> None:
        self.config = config
        self.sources = sources
        self.as_of = np.datetime64(as_of.isoformat(), "D")
        self.day = as_of
        self.id_tag = id_tag
        self.flaws = FlawLog()
        self.counters: dict[str, int] = {}
        self.chunks: dict[str, int] = {}
        self.dropped: dict[str, set[str]] = {}
        for source, column in config.drop_columns:
            self.dropped.setdefault(source, set()).add(column)
        self.sinks: dict[str, CsvSink] = {}
        for name, spec in sources.items():
            encoding = spec.encoding
            if name in config.encoding_flaws:
                encoding = SWAPPED_ENCODING.get(encoding, "gbk")
                self.flaws.file_level.append(
                    {"source": name, "flaw": f"encoded_as_{encoding}", "rule": "file_encoding"}
                )
            if encoding == "utf-8-sig":
                encoding = "utf-8"
            columns = [c for c in spec.column_names if c not in self.dropped.get(name, set())]
            for column in self.dropped.get(name, set()):
                self.flaws.file_level.append(
                    {"source": name, "flaw": f"missing_column:{column}", "rule": "column_present"}
                )
            relative = f"landing/{spec.relative_path(as_of)}"
            self.sinks[name] = CsvSink(config.out, relative, name, columns, encoding)

    def with_ids(self, source: str, frame: Frame) -> Frame:
        """The rows with their generated ids (the next ones of ``source``), for rows that
        others refer to before they are written (a feedback case from its interactions)."""
        frame = dict(frame)
        n = len(next(iter(frame.values())))
        if source in ROW_IDS and ROW_IDS[source][0] not in frame:
            column, prefix, width = ROW_IDS[source]
            width = 8 if self.id_tag else width
            start = self.counters.get(source, 0)
            frame[column] = prefixed_numbers(prefix + self.id_tag, np.arange(start, start + n) + 1, width)
            self.counters[source] = start + n
        return frame

    def emit(self, source: str, frame: Frame) -> None:
        """Add generated ids, plant flaws, write the rows."""
        frame = self.with_ids(source, frame)
        spec = self.sources[source]
        table = render_table(spec, frame)
        chunk = self.chunks.get(source, 0)
        self.chunks[source] = chunk + 1
        rng = stream(self.config.seed, f"flaws:{source}:{self.id_tag}", chunk)
        table, found = plant_flaws(rng, spec, frame, table, self.config.flaw_rate, self.as_of,
                                   self.dropped.get(source, set()))
        sink = self.sinks[source]
        for rows in found.row:
            self.flaws.row.append(rows + sink.rows + 1)
        self.flaws.key.extend(found.key)
        self.flaws.column.extend(found.column)
        self.flaws.flaw.extend(found.flaw)
        self.flaws.rule.extend(found.rule)
        self.flaws.source.extend([source] * len(found.column))
        self.flaws.file.extend([sink.relative] * len(found.column))
        sink.write(table)

    def close(self) -> list[FileSummary]:
        """Finish every file, then write the control file of each source configured with one."""
        files = [sink.close() for sink in self.sinks.values()]
        for summary in files:
            spec = self.sources[summary.source]
            relative = spec.control_path(self.day)
            if relative is not None:
                write_control_file(self.config.out / "landing" / relative, self.config.out / summary.path,
                                   summary, spec.control_checksum)
        return files


def write_control_file(path: Path, extract: Path, summary: FileSummary, checksum: str) -> None:
    """``<rows>[,<checksum of the whole extract>]``, as lifecycle/integration/control.py reads it."""
    if checksum == "none":
        line = str(summary.rows)
    elif checksum == "sha256":
        line = f"{summary.rows},{summary.sha256}"
    else:
        line = f"{summary.rows},{hashlib.new(checksum, extract.read_bytes()).hexdigest()}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(line + "\n", encoding="ascii")
