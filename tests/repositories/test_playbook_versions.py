"""Playbook versions repository: numbering, hashes, exactly one active."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from leadflow.core.playbook_text import content_hash
from leadflow.models import PlaybookVersion
from leadflow.repositories import playbook_versions
from tests.repositories.conftest import NOW


def _create(session: Session, content: str) -> PlaybookVersion:
    return playbook_versions.create(session, name="b2b", content=content, author="t", at=NOW)


def _active_count(session: Session) -> int:
    query = select(PlaybookVersion).where(PlaybookVersion.active.is_(True))
    return len(session.scalars(query).all())


def test_create_numbers_and_hashes(session: Session) -> None:
    assert playbook_versions.active(session) is None
    first, second = _create(session, "a: 1\n"), _create(session, "a: 2\n")
    assert (first.version, second.version) == (1, 2)
    assert first.content_hash == content_hash("a: 1\n")
    assert not first.active
    assert playbook_versions.get_by_hash(session, content_hash("a: 2\n")) is second
    assert playbook_versions.get_by_hash(session, "nope") is None
    assert [v.version for v in playbook_versions.list_versions(session)] == [2, 1]


def test_activate_leaves_exactly_one_active(session: Session) -> None:
    versions = [_create(session, f"a: {i}\n") for i in range(3)]
    for version in [versions[0], versions[2], versions[1], versions[1]]:
        assert playbook_versions.activate(session, version.id).active
        assert _active_count(session) == 1
        active = playbook_versions.active(session)
        assert active is not None
        assert active.id == version.id
    session.refresh(versions[0])
    assert not versions[0].active


def test_database_refuses_a_second_active_version(session: Session) -> None:
    first, second = _create(session, "a: 1\n"), _create(session, "a: 2\n")
    playbook_versions.activate(session, first.id)
    second.active = True
    with pytest.raises(IntegrityError), session.begin_nested():
        session.flush()
