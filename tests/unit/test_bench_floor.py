"""The I/O floor loads every landing row as text, in the pipeline's chunks and batches."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from bench.floor import load_file, plain_encoding
from lifecycle.integration.sources import load_sources
from lifecycle.store.db import make_engine


def test_a_gbk_extract_is_loaded_row_for_row_with_empty_cells_as_null(tmp_path: Path) -> None:
    spec = load_sources()["card_customers"]
    assert plain_encoding(spec) == "gb18030"
    path = tmp_path / "card_customers.csv"
    rows = [f"C{i:09d},张　三{i},,1380000{i:04d}" for i in range(7)]
    path.write_bytes(("CARD_CUST_ID,CUST_NM,CERT_NO,MOBILE_NO\n" + "\n".join(rows) + "\n").encode("gbk"))
    engine = make_engine(f"sqlite:///{tmp_path / 'floor.db'}")
    result = load_file(engine, spec, path, chunk_rows=3, batch_rows=2)
    with engine.connect() as conn:
        stored = conn.execute(text('SELECT "CARD_CUST_ID", "CUST_NM", "CERT_NO" FROM floor_card_customers '
                                   'ORDER BY 1')).all()
    assert result.rows == 7 and result.bytes == path.stat().st_size
    assert stored[0] == ("C000000000", "张　三0", None)
    assert len(stored) == 7
