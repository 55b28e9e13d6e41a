"""The Segment HTTP Tracking API: `/v1/identify|track|page|screen|group|alias|batch`.

Unmodified Segment libraries work against it: the write key (an `ingest` API key) comes as
the HTTP Basic user or as `writeKey` in the body; bodies may be gzip and may be labelled
`text/plain` (browsers send that to skip a CORS preflight). Limits follow Segment's: 32 KB per
message, 500 KB per request, 2,500 messages per batch. Everything a message does, scoring
included, is committed before the response says so. A message about an erased or do-not-track
person is answered as a stored one (`_acknowledged`): the write key is public.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import groupby
from operator import itemgetter
from typing import Any, TypeVar

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from leadflow.api.deps import Caller, KeyCache
from leadflow.api.group_commit import GroupCommit, one_transaction, runs_together
from leadflow.api.metrics import Metrics
from leadflow.api.openapi_doc import segment_operation
from leadflow.api.strict_body import read_at_most
from leadflow.core import strict_json
from leadflow.core.errors import Invalid
from leadflow.core.playbook import Playbook
from leadflow.core.roles import Permission, Role, allows
from leadflow.core.segment import Message
from leadflow.services import ingest, keys, playbooks

T = TypeVar("T")
log = logging.getLogger("leadflow.api")

MAX_REQUEST = 500 * 1024
MAX_MESSAGE = 32 * 1024
MAX_BATCH = 2500
PATHS = {
    "identify": "i",
    "track": "t",
    "page": "p",
    "screen": "s",
    "group": "g",
    "alias": "a",
}

router = APIRouter(prefix="/v1", tags=["Segment tracking API"])


class RequestRefused(HTTPException):
    """A 400 with the reason, raised before anything is stored."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(status, message)


async def read_body(request: Request) -> Any:
    """The JSON document of the request: size-checked, gunzipped, whatever its content type."""
    raw = await read_at_most(request, MAX_REQUEST, _over_limit)
    if request.headers.get("content-encoding", "").lower() == "gzip":
        raw = _gunzip(raw)
    if not raw.strip():
        raise RequestRefused("request body is empty: send a JSON object")
    try:
        return strict_json.loads(raw, nul=True)  # NUL is dropped (`segment.without_nul`)
    except Invalid as exc:
        raise RequestRefused(exc.message) from None
    except UnicodeDecodeError:
        raise RequestRefused("request body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise RequestRefused(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None


def _over_limit() -> RequestRefused:
    return RequestRefused(f"request body is over {MAX_REQUEST // 1024} KB")


def _gunzip(raw: bytes) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(raw, MAX_REQUEST + 1)
    except zlib.error:
        raise RequestRefused("Content-Encoding is gzip but the body is not gzip data") from None
    if len(data) > MAX_REQUEST or inflater.unconsumed_tail:
        raise RequestRefused(f"request body is over {MAX_REQUEST // 1024} KB uncompressed")
    return data


def _write_key(request: Request, body: Any) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "basic" and credentials:
        try:
            user = base64.b64decode(credentials.strip(), validate=True).decode().split(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            raise RequestRefused("Authorization: Basic credentials are not base64", 401) from None
        if user:
            return user
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    if isinstance(body, dict) and isinstance(body.get("writeKey"), str):
        return str(body["writeKey"])
    raise RequestRefused(
        "missing write key: send it as the HTTP Basic user (`KEY:`) or as `writeKey`", 401
    )


async def authenticate(request: Request, body: Any, now: datetime) -> Caller:
    """The request's write key: 401 when unknown or revoked, 403 when it may not send events.

    Keys are looked up at most every few seconds (see `KeyCache`): a revoked key stops
    working within that time.
    """
    secret = _write_key(request, body)
    cache: KeyCache = request.app.state.key_cache
    known, caller = cache.get(secret, time.monotonic())
    if not known:
        caller = await _in_database(request, _look_up, secret, now)
        cache.put(secret, caller, time.monotonic())
    if caller is None:
        raise RequestRefused("unknown or revoked write key", 401)
    if not allows(caller.role, Permission.INGEST):
        raise RequestRefused(f"a {caller.role.value} key may not send events", 403)
    return caller


def _look_up(session: Session, secret: str, now: datetime) -> Caller | None:
    key = keys.authenticate(session, secret, now)
    if key is None:
        return None
    keys.record_use(session, key.id, now)  # a write transaction already (see _in_database)
    return Caller(key.id, Role(key.role), key.name)


async def _in_database(request: Request, work: Callable[..., T], *args: Any) -> T:
    """Run `work(session, *args)` in a write transaction, committed before returning.

    Concurrent calls of one process share transactions (see `GroupCommit`); on PostgreSQL
    other processes write beside them.
    """
    group: GroupCommit | None = request.app.state.group_commit
    if group is not None:
        return await group.run(work, *args)
    factory: sessionmaker[Session] = request.app.state.sessions
    return await run_in_threadpool(one_transaction, factory, work, *args)


def _size(message: Any) -> int:
    return len(json.dumps(message, separators=(",", ":"), default=str).encode())


def _kb(size: int) -> str:
    return f"{-(-size // 1024):,} KB"


def _check_batch_context(body: dict[str, Any], messages: list[Any]) -> None:
    """A 400 when the batch's context, copied into each of its messages, would come to more
    than a request may carry: 300 KB of context under 2,500 messages were 750 MB to copy,
    measure and parse (minutes of CPU and gigabytes of memory for one request)."""
    context = body.get("context")
    if not isinstance(context, dict) or not context:
        return
    count = sum(1 for m in messages if isinstance(m, dict))
    size = _size(context)
    if size * count > MAX_REQUEST:
        raise RequestRefused(
            f"context: the batch's context ({_kb(size)}) is merged into each of its "
            f"{count:,} messages: {_kb(size * count)} in all, over {_kb(MAX_REQUEST)}"
        )


def _with_batch_context(body: dict[str, Any], message: Any) -> Any:
    # A batch may carry context and integrations for all of its messages.
    if isinstance(message, dict) and isinstance(body.get("context"), dict):
        merged = {**body["context"], **(message.get("context") or {})}
        return {**message, "context": merged}
    return message


async def _receive(request: Request, kind: str | None) -> JSONResponse:
    now = datetime.now(UTC)
    body = await read_body(request)
    caller = await authenticate(request, body, now)
    if not isinstance(body, dict):
        raise RequestRefused("request body must be a JSON object")
    if kind is None:
        messages = body.get("batch")
        if not isinstance(messages, list):
            raise RequestRefused("batch: required, a list of messages")
        if len(messages) > MAX_BATCH:
            raise RequestRefused(f"batch: {len(messages)} messages, over {MAX_BATCH}")
        _check_batch_context(body, messages)
        messages = [_with_batch_context(body, m) for m in messages]
    else:
        messages = [body]
    valid, rejected = _parse(messages, now, kind)
    if kind is not None and rejected:
        raise RequestRefused(rejected[0].reason)
    result = ingest.added([
        await _in_database(request, _store, part, f"key-{caller.id}", now)
        for part in ingest.transaction_parts(valid)
    ])  # fmt: skip
    stored = _acknowledged(result)
    counted: Metrics = request.app.state.metrics
    counted.events.labels("stored").inc(stored)
    counted.events.labels("duplicate").inc(result.duplicates)
    counted.events.labels("rejected").inc(len(rejected))
    return JSONResponse(
        {
            "success": True,
            "stored": stored,
            "duplicates": result.duplicates,
            "rejected": [{"index": r.index, "reason": r.reason} for r in rejected],
        }
    )


def _acknowledged(result: ingest.IngestResult) -> int:
    """What the answer (and `/metrics`, which asks for no sign-in) calls stored: the messages
    stored and those dropped for privacy alike. The write key is public, so telling them
    apart would tell anyone which addresses were erased or opted out of tracking; a replay
    of either is a duplicate. Only the server's log counts the dropped ones, naming nobody."""
    if result.suppressed:
        log.info("tracking call: %d of its messages dropped for privacy (erased or "
                 "do-not-track), answered as stored", result.suppressed)  # fmt: skip
    return result.stored + result.suppressed


def _store(
    session: Session, messages: list[Message], source: str, now: datetime
) -> ingest.IngestResult:
    return _store_together(session, [(messages, source, now)])[0]


def _store_together(
    session: Session, calls: list[tuple[list[Message], str, datetime]]
) -> list[ingest.IngestResult]:
    """Several tracking calls waiting in one turn, stored as one batch per run of calls with
    the same key (in arrival order), each answered for its own messages."""
    snapshot, book = _known_before_scoring(session)
    results: list[ingest.IngestResult] = []
    for source, run in groupby(calls, key=itemgetter(1)):
        same = list(run)
        now = max(at for _, _, at in same)
        parts = [messages for messages, _, _ in same]
        results += ingest.ingest_parts(session, book, parts, source=source, now=now,
                                       snapshot=snapshot)  # fmt: skip
    return results


def _known_before_scoring(session: Session) -> tuple[ingest.LiveSnapshot, Playbook]:
    # Requests sharing a transaction share what it knows before scoring: none of them can
    # change the playbook, the shadow, the model or the erased (only other endpoints do).
    snapshot: ingest.LiveSnapshot = session.info.get("snapshot") or ingest.read_snapshot(session)
    book: Playbook = session.info.get("playbook") or playbooks.active_playbook(
        session, snapshot.playbook_hash
    )
    session.info.update(snapshot=snapshot, playbook=book)
    return snapshot, book


runs_together(_store, _store_together)


def _parse(
    messages: list[Any], now: Any, kind: str | None
) -> tuple[list[Any], list[ingest.Rejected]]:
    sized: list[Any] = []
    oversize: list[ingest.Rejected] = []
    positions: list[int] = []
    for index, message in enumerate(messages):
        if _size(message) > MAX_MESSAGE:
            oversize.append(ingest.Rejected(index, f"message is over {MAX_MESSAGE // 1024} KB"))
        else:
            sized.append(message)
            positions.append(index)
    valid, rejected = ingest.parse_all(sized, now, kind)
    rejected = [ingest.Rejected(positions[r.index], r.reason) for r in rejected]
    if kind is not None and oversize:
        raise RequestRefused(oversize[0].reason)
    return valid, sorted([*oversize, *rejected], key=lambda r: r.index)


def _endpoint(kind: str | None) -> Any:
    # Only the Request: no dependency to solve and no worker-thread hop on the per-event path.
    async def receive(request: Request) -> JSONResponse:
        return await _receive(request, kind)

    receive.__name__ = f"segment_{kind or 'batch'}"
    receive.__doc__ = (
        f"Segment `{kind}` call." if kind else "Segment `batch`: up to 2,500 messages."
    )
    return receive


for _kind, _short in PATHS.items():
    router.add_api_route(
        f"/{_kind}", _endpoint(_kind), methods=["POST"], openapi_extra=segment_operation(_kind)
    )
    router.add_api_route(f"/{_short}", _endpoint(_kind), methods=["POST"], include_in_schema=False)
router.add_api_route(
    "/batch", _endpoint(None), methods=["POST"], openapi_extra=segment_operation(None)
)
router.add_api_route("/b", _endpoint(None), methods=["POST"], include_in_schema=False)
router.add_api_route("/import", _endpoint(None), methods=["POST"], include_in_schema=False)
