"""Segment messages as the tracking API reads them (pure)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadflow.core.errors import Invalid
from leadflow.core.segment import email_shaped, merged_address, parse_message

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_an_e_mail_is_taken_from_traits_context_or_user_id() -> None:
    raw = {"type": "identify", "userId": "Ann@Acme.io", "traits": {"email": "not one"},
           "context": {"traits": {"email": " ann@acme.io "}}}  # fmt: skip
    assert parse_message(raw, NOW).emails() == ["ann@acme.io", "ann@acme.io"]
    assert email_shaped("a@b.c") and not email_shaped("a@b.") and not email_shaped("a@.b")
    assert not email_shaped("a b@c.d") and not email_shaped("a@b@c.d") and not email_shaped("@b.c")


def test_only_what_every_path_takes_is_an_e_mail() -> None:
    # Before: anything shaped `x@y.z` was a lead's e-mail here, so /v1 stored addresses an
    # import and the API refuse (`ann@acme..io`, `ann@a_b.io`, `ann@-.io`).
    for refused in ("ann@acme..io", "ann@a_b.io", "ann@müller", "ann@acme.io..", "ann@x y.io"):
        raw = {"type": "identify", "userId": refused, "traits": {"email": refused}}
        assert parse_message(raw, NOW).emails() == [], refused
    raw = {"type": "identify", "userId": "u1", "traits": {"email": " Ann@XN--MLLER-KVA.de. "}}
    assert parse_message(raw, NOW).emails() == ["ann@müller.de"]


def test_no_visitor_id_takes_the_form_of_a_merged_address() -> None:
    """`email:<address>` keys name the lead a merged record's address folded into: an
    anonymous or previous id of that form would take a person's address or events."""
    with pytest.raises(Invalid, match="anonymousId may not begin with 'email:'"):
        parse_message({"type": "page", "anonymousId": "email:ann@acme.io"}, NOW)
    with pytest.raises(Invalid, match="previousId may not begin with 'email:'"):
        parse_message({"type": "alias", "userId": "u1", "previousId": " email:a@b.io"}, NOW)
    with pytest.raises(Invalid, match="previousId is required"):
        parse_message({"type": "alias", "userId": "u1"}, NOW)
    kept = parse_message({"type": "page", "anonymousId": "Email:x", "userId": "email:x"}, NOW)
    assert (kept.anonymous_id, kept.user_id) == ("Email:x", "email:x")  # `user:email:x`
    assert merged_address("email:ann@acme.io") == "ann@acme.io"
    assert merged_address("user:email:ann@acme.io") is None


def test_a_long_domain_of_dots_is_judged_in_one_pass() -> None:
    # Anybody holding the public write key sends traits: the pattern tried every dot of a
    # domain as its last and scanned the rest of it each time (32,000 dots took 3 s, a
    # 32 KB message asks it several times). A million would not finish within the run.
    dots = "." * 1_000_000
    raw = {"type": "identify", "userId": "u1", "traits": {"email": f"a@{dots} x"},
           "context": {"traits": {"email": f"a@x{dots}@"}}}  # fmt: skip
    assert parse_message(raw, NOW).emails() == []
    assert email_shaped(f"a@x{dots}y")


_REFERENCE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")  # the pattern it replaced


@given(st.text(alphabet="a.@ \n\t\u00a0\u2028", max_size=12))
def test_email_shaped_is_the_former_pattern(text: str) -> None:
    assert email_shaped(text) == (_REFERENCE.match(text) is not None)
