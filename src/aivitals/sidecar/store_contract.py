"""What every sidecar store shares: the rows it holds, its retention limits, the ``EventStore`` protocol, StoreError.

Apart from ``store.py`` so the SQLite and PostgreSQL stores, and the writer, collector and API that use one,
depend on this contract rather than on either implementation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol


class StoreError(RuntimeError):
    """The store could not commit; the client should retry (HTTP 503)."""


@dataclass(frozen=True)
class Retention:
    """How much the store keeps; older and surplus rows are evicted and counted."""

    prediction_max_count: int
    prediction_max_age_seconds: float
    user_max_count: int
    user_max_age_seconds: float
    dedup_max_count: int
    dedup_max_age_seconds: float
    incident_max_age_seconds: float


@dataclass(slots=True)
class PredictionRow:
    #: The prediction id's keyed hash (keys.py), as every id in the store.
    id: bytes
    model: str
    time: float
    received: float
    predicted: bool | int | str
    #: Whether the predicted class is the positive one; None for multi-class without a positive class.
    positive: bool | None
    score: float | None
    confidence: float | None
    positive_class: bool | int | str | None
    groups: dict[str, str]
    labelled: bool = False


@dataclass(slots=True)
class UserRow:
    key: bytes
    first_seen: float
    last_seen: float
    valued_at: float | None


@dataclass
class IncidentRow:
    #: ``api:`` or ``am:`` (its source's namespace) and the keyed hash of its id or fingerprint.
    id: bytes
    severity: str
    source: str
    occurred: float | None
    detected: float | None
    resolved: float | None
    updated: float


class EventStore(Protocol):
    """What the writer and the collector need from a store; a PostgreSQL store can follow.

    Write methods run inside ``begin()``/``commit()`` on the writer thread only;
    ``rollback()`` undoes everything since ``begin()``. Ids (event ids, prediction ids,
    incidents) are bytes: 16-byte keyed hashes, an incident's and a seen event's behind
    their kind (``api:``, ``am:``, ``e:``); ``hash_ids`` and ``binary_ids`` bring older
    stores there (keys.py decides which, once, in the startup transaction).
    """

    def begin(self) -> None: ...
    def isolated(self) -> contextlib.AbstractContextManager[None]: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def close(self) -> None: ...
    def get_meta(self, key: str) -> bytes | None: ...
    def read_meta(self, key: str) -> bytes | None: ...
    def put_meta(self, key: str, value: bytes) -> None: ...
    def delete_meta(self, key: str) -> None: ...
    def hash_ids(self, hash_id: Callable[[str], bytes]) -> None: ...
    def binary_ids(self) -> None: ...
    def scrub(self) -> None: ...
    def load_series(self) -> dict[str, list[float]]: ...
    def save_series(self, series: dict[str, list[float]]) -> None: ...
    def claim(self, keys: Sequence[bytes], received: float) -> set[bytes]: ...
    def seen(self, keys: Sequence[bytes]) -> set[bytes]: ...  # read-only, any thread: committed claims
    def add_predictions(self, rows: Sequence[PredictionRow]) -> list[bool]: ...
    def get_prediction(self, prediction_id: bytes) -> PredictionRow | None: ...
    def evicted_model(self, prediction_id: bytes) -> str | None: ...
    def label_prediction(self, prediction_id: bytes, labelled_at: float, actual_positive: bool | None) -> None: ...
    def get_users(self, keys: Sequence[bytes]) -> dict[bytes, UserRow]: ...
    def put_users(self, rows: Sequence[UserRow], new: int) -> None: ...
    def get_incident(self, incident_id: bytes) -> IncidentRow | None: ...
    def put_incident(self, row: IncidentRow) -> None: ...
    def delete_incident(self, incident_id: bytes) -> None: ...
    def evict(self, now: float) -> dict[str, int]: ...
    def labelled_scores(self, since: float) -> list[tuple[str, float, int, float]]: ...
    def active_users(self, since: list[float]) -> list[int]: ...
