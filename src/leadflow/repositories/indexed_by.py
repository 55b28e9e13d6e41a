"""SQLite's `INDEXED BY`, which SQLAlchemy does not render (`with_hint` is dropped there)."""

from __future__ import annotations

import re

from sqlalchemy import ClauseElement, TextClause, bindparam, text
from sqlalchemy.dialects.sqlite.base import SQLiteDialect
from sqlalchemy.sql.compiler import SQLCompiler


def indexed_by(query: ClauseElement, table: str, index: str) -> TextClause:
    """The query, compiled for SQLite, reading `table` through `index` (once: the query must
    name the table once), its parameters bound again with their types."""
    compiled = query.compile(dialect=SQLiteDialect(paramstyle="named"))
    assert isinstance(compiled, SQLCompiler)
    sql, readings = re.subn(
        rf"\bFROM {table}\b", f"FROM {table} INDEXED BY {index}", compiled.string
    )
    assert readings == 1, f"one reading of {table}"
    types = {name: bind.type for bind, name in compiled.bind_names.items()}
    binds = [bindparam(name, value, type_=types[name]) for name, value in compiled.params.items()]
    return text(sql).bindparams(*binds)
