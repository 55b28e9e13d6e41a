"""Repositories: every SQL statement lives here, one module per aggregate; none commits."""
