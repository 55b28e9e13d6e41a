"""Child process: run one SQLite query through ADBC and write its rows to stdout as Arrow IPC.

The ADBC driver carries its own copy of SQLite. Two copies in one process lose each other's
POSIX locks when either closes the file, which can corrupt the database, so ADBC only ever
runs here, in a process of its own. This file imports nothing from leadflow: it starts fast.

    python _sqlite_arrow.py DATABASE_PATH QUERY [--whole]

ADBC types each column from its first batch of rows and fails on a later value of another
type; `--whole` makes the first batch all the rows (a column may start with NULLs).
"""

from __future__ import annotations

import sys

WHOLE = str(2**30)


def main(argv: list[str]) -> int:
    """Stream the rows of `QUERY` on `DATABASE_PATH` to stdout."""
    import adbc_driver_sqlite.dbapi as adbc
    import pyarrow as pa

    path, query, *flags = argv
    with adbc.connect(path) as connection, connection.cursor() as cursor:
        if "--whole" in flags:
            cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": WHOLE})
        cursor.execute(query)
        reader = cursor.fetch_record_batch()
        with pa.ipc.new_stream(sys.stdout.buffer, reader.schema) as stream:
            for batch in reader:
                stream.write_batch(batch)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
