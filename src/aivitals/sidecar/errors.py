"""The one exception a request handler turns into a 4xx answer."""

from __future__ import annotations

from collections.abc import Sequence

from .events import UNKNOWN_KIND


class RequestError(Exception):
    """A request the sidecar will not accept; ``status`` is the 4xx to answer with.

    ``detail`` and ``errors`` name fields and limits, never a submitted value, so
    nothing a client sent is echoed or logged.
    """

    def __init__(self, status: int, detail: str, errors: Sequence[tuple[list[str | int], str]] = (),
                 kind: str = UNKNOWN_KIND, count: int = 1) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = list(errors)
        self.kind = kind
        self.count = count
