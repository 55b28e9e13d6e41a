"""SQLite's `INDEXED BY`, which SQLAlchemy does not render (`with_hint` is dropped there)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy import ClauseElement, TextClause, bindparam, text
from sqlalchemy.dialects.sqlite.base import SQLiteDialect
from sqlalchemy.sql.compiler import SQLCompiler


def indexed_by(
    query: ClauseElement, table: str, index: str, joined: Mapping[str, str] | None = None
) -> TextClause:
    """The query, compiled for SQLite, reading `table` through `index` (once: the query must
    name the table once) and each table it joins in `joined` through its index there, its
    parameters bound again with their types."""
    compiled = query.compile(dialect=SQLiteDialect(paramstyle="named"))
    assert isinstance(compiled, SQLCompiler)
    sql = compiled.string
    for verb, name, used in [("FROM", table, index)] + [
        ("JOIN", name, used) for name, used in (joined or {}).items()
    ]:
        sql, readings = re.subn(rf"\b{verb} {name}\b", f"{verb} {name} INDEXED BY {used}", sql)
        assert readings == 1, f"one reading of {name}"
    types = {name: bind.type for bind, name in compiled.bind_names.items()}
    binds = [bindparam(name, value, type_=types[name]) for name, value in compiled.params.items()]
    return text(sql).bindparams(*binds)
