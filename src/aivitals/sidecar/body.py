"""The one body reader of every endpoint: bounded in size, bounded in JSON nesting.

A body over ``max_body_bytes`` is still read (and thrown away) up to
``DRAIN_FACTOR`` times the limit before the 413 goes out: HTTP clients that do
not send ``Expect: 100-continue`` (urllib, requests, httpx) write the whole body
before they read an answer, and a server that answers and closes early shows
them a connection reset instead of the 413. Beyond that bound, or when the
client asked to be told first, the answer goes out at once.

Nesting is bounded before any parser runs: Python's ``json`` recurses once per
level and raises RecursionError around 1000, and no event is deeper than a few
levels. The check works on the bytes (strings cut out, brackets kept), so it
costs a few passes of C-level byte operations, never one Python step per byte.
"""

from __future__ import annotations

import re

from starlette.requests import Request

from .errors import RequestError

#: Deepest JSON nesting accepted: events are at most 3 deep, Alertmanager's payload 4.
MAX_DEPTH = 32
#: An oversized body is read and discarded up to this many times max_body_bytes before the 413.
DRAIN_FACTOR = 2

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_SQUARE = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")


async def read_body(request: Request, limit: int, max_depth: int = MAX_DEPTH) -> bytes:
    """The whole body, or RequestError: 400 (bad length, nested too deep) or 413 (over ``limit``)."""
    declared = request.headers.get("content-length")
    drain = DRAIN_FACTOR * limit
    if declared is not None:
        if not declared.isdigit():
            raise RequestError(400, "Content-Length: not a number")
        size = int(declared)
        asked_first = request.headers.get("expect", "").lower() == "100-continue"
        if size > limit and (size > drain or asked_first):
            raise RequestError(413, f"body: {size} bytes, at most {limit} (max_body_bytes)")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > drain:
            break
        if size <= limit:
            chunks.append(chunk)
    if size > limit:
        raise RequestError(413, f"body: over {limit} bytes, at most {limit} (max_body_bytes)")
    body = b"".join(chunks)
    if too_deep(body, max_depth):
        raise RequestError(400, f"body: JSON nested deeper than {max_depth} levels; events are at most a few "
                                "levels deep")
    return body


def too_deep(body: bytes, max_depth: int) -> bool:
    """Whether any JSON value in ``body`` (one document or NDJSON lines) nests deeper than ``max_depth``.

    Each pass removes the innermost ``[]``/``{}`` pairs, so a pair still there
    after ``max_depth`` passes lies deeper. What cannot pair (``]][[``, malformed
    input) is left for the parser to reject, unless it alone opens too many levels.
    """
    skeleton = _STRING.sub(b"", body).translate(_SQUARE, _NOT_BRACKET)
    for _ in range(max_depth):
        reduced = skeleton.replace(b"[]", b"")
        if reduced == skeleton:
            break
        skeleton = reduced
    return b"[]" in skeleton or skeleton.count(b"[") > max_depth
