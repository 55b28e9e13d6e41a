"""The house rules of the templates, which the Content-Security-Policy relies on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from leadflow.web.pages import TEMPLATES

FILES = sorted(Path(TEMPLATES.env.loader.searchpath[0]).glob("*.html"))  # type: ignore[union-attr]


def test_autoescaping_is_on_for_every_page() -> None:
    shown = TEMPLATES.get_template("error.html").render(viewer=None, title="<b>x</b>", message="")
    assert "&lt;b&gt;x&lt;/b&gt;" in shown and "<b>" not in shown


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_no_unescaped_data_inline_script_handler_or_style(path: Path) -> None:
    text = path.read_text()
    assert "|safe" not in text.replace(" ", "")  # data is escaped; JSON goes through tojson
    for tag in re.findall(r"<script\b[^>]*>", text):  # only the app's files, or a JSON block
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"\son[a-z]+\s*=", text)  # no inline event handlers
    assert not re.search(r"\sstyle\s*=", text)  # no inline style (style-src 'self')
