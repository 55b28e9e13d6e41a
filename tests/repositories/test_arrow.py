"""The columnar reads' child processes: a child that dies is a failed read, never a crash."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from leadflow.repositories import _arrow


def _stream(rows: int) -> bytes:
    table = pa.table({"lead_id": list(range(rows)), "kind": ["page"] * rows})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as stream:
        stream.write_table(table)
    return bytes(sink.getvalue())


def _child_writing(data: bytes, then: str, folder: Path) -> subprocess.Popen[bytes]:
    """A child writing `data` to its stdout, then running `then` (Python)."""
    source = folder / "stream.arrow"
    source.write_bytes(data)
    script = (
        f"import os, sys\nsys.stdout.buffer.write(open({str(source)!r}, 'rb').read())\n"
        f"sys.stdout.flush()\n{then}\n"
    )
    return subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def test_a_whole_stream_is_read(tmp_path: Path) -> None:
    table = _arrow.finish(_child_writing(_stream(1000), "sys.exit(0)", tmp_path))
    assert table.num_rows == 1000


@pytest.mark.parametrize("cut", [0.1, 0.5, 0.9])
def test_a_child_killed_mid_stream_is_a_failed_read(cut: float, tmp_path: Path) -> None:
    """Killed with its stream cut off (the kernel's out-of-memory killer, an operator's kill):
    the caller gets the read's RuntimeError, which makes it read rows instead."""
    data = _stream(100_000)
    kill = f"os.kill(os.getpid(), {int(signal.SIGKILL)})"
    with pytest.raises(RuntimeError, match="reading through ADBC failed"):
        _arrow.finish(_child_writing(data[: int(len(data) * cut)], kill, tmp_path))


def test_a_child_failing_after_a_whole_stream_is_a_failed_read(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="disk I/O error"):
        _arrow.finish(_child_writing(_stream(10), "sys.exit('disk I/O error')", tmp_path))
