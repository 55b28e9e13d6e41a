"""`python -m leadflow` runs the same command line as the installed `leadflow` script."""

from __future__ import annotations

import subprocess
import sys


def test_python_dash_m_leadflow_is_the_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "leadflow", "--help"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "Usage: leadflow" in done.stdout
    assert "rescore" in done.stdout  # a command of its own, not some other program's help
