"""The sidecar's event tests again, on a real PostgreSQL store instead of SQLite.

Every test of the modules below that takes the ``client`` fixture is collected here
a second time, with ``client`` overridden: the same app on a fresh PostgreSQL
database, as one replica (so it is the leader). A replica labels its own series
``replica``; the only seam is that this client's ``/metrics`` drops that label
after checking every per-replica series carries it, so the unchanged assertions
compare the same numbers.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

import test_sidecar_events
import test_sidecar_quality
import test_sidecar_times
from _sidecar import Clock, settings
from aivitals.sidecar import create_app
from aivitals.sidecar.replica import PER_REPLICA

REPLICA = "replica-0"
KEY = "a hashing key shared by every replica"
_PER_REPLICA_NAMES = {name for m in PER_REPLICA for name in m.exposed_names}
_LABEL = re.compile(r',?replica="' + REPLICA + '"')


class ReplicaClient(TestClient):
    """A TestClient whose /metrics is checked for the replica label, then shown without it."""

    def get(self, url: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        response = super().get(url, **kwargs)
        if str(url) != "/metrics":
            return response
        for family in text_string_to_metric_families(response.text):
            for s in family.samples:
                if s.name in _PER_REPLICA_NAMES:
                    assert s.labels.get("replica") == REPLICA, s
                else:
                    assert "replica" not in s.labels, s
        text = _LABEL.sub("", response.text).replace("{}", "")
        return type(response)(200, text=text, headers=response.headers)


@pytest.fixture
def client(tmp_path: Path, sidecar_clock: Clock, pg_url: str) -> Iterator[TestClient]:
    conf = settings(tmp_path, store_url=pg_url, user_key_secret=KEY, replica_id=REPLICA)
    with ReplicaClient(create_app(conf, clock=sidecar_clock)) as c:
        yield c


for _module in (test_sidecar_events, test_sidecar_quality, test_sidecar_times):
    for _name, _test in vars(_module).items():
        if _name.startswith("test_") and "client" in inspect.signature(_test).parameters:
            globals()[_name] = _test
