"""Child process of :func:`lifecycle.store.arrow.read_batches` on SQLite.

Reads one SQL statement from stdin, runs it through the ADBC SQLite driver on a
read-only connection and writes the rows to stdout as an Arrow IPC stream. It
runs apart because the driver bundles a SQLite library of its own: opened in the
caller's process, closing its file descriptor would drop every POSIX lock that
process's own SQLite connections hold on the database (see arrow.py).

Imports nothing of the platform, so it starts from any installation layout.
On failure it writes one line to stderr and exits 1.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    database, batch_rows = argv[0], argv[1]
    sql = sys.stdin.read()
    try:
        import adbc_driver_sqlite.dbapi as adbc
        import pyarrow as pa

        with adbc.connect(f"file:{database}?mode=ro") as conn, conn.cursor() as cur:
            cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": batch_rows})
            cur.execute(sql)
            reader = cur.fetch_record_batch()
            with pa.ipc.new_stream(sys.stdout.buffer, reader.schema) as writer:
                for batch in reader:
                    writer.write_batch(batch)
    except BrokenPipeError:  # the caller stopped reading: nothing to report
        return 0
    except Exception as exc:  # reported by the caller as one clear error
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        sys.stderr.write(f"{type(exc).__name__}: {first}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
