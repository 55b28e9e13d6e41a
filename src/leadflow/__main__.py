"""`python -m leadflow`: the same command line as the `leadflow` script."""

from leadflow.cli.main import app

app(prog_name="leadflow")
