"""A command starts without loading what only a server, a delivery or the live demo uses."""

from __future__ import annotations

import subprocess
import sys

SERVERS_ONLY = ("uvicorn", "apprise", "httpx", "fastapi", "sklearn", "lightgbm", "pyarrow")


def test_the_cli_loads_no_server_or_learning_library() -> None:
    # A fresh interpreter: this test process has imported them all already.
    code = (
        "import sys\nimport leadflow.cli.main\n"
        f"print(','.join(m for m in {SERVERS_ONLY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
