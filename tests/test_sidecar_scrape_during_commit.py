"""A scrape never waits for the writer: it reads the last committed values while a group is being committed.

The writer holds the ledger's lock through a whole group (its savepoints, the
store's fsync) and takes it again at once for the next group under load; a
scrape that waited for that lock took 10 to 30 s in the demo, past any scrape
timeout. Holding the lock from the test stands in for a long commit (the
narrowest seam: nothing else is faked).
"""

from __future__ import annotations

import threading
from pathlib import Path

from fastapi.testclient import TestClient

from _sidecar import Clock, sample, settings
from aivitals.sidecar import create_app

WAIT_LIMIT_S = 30.0


def test_a_scrape_answers_while_the_writer_holds_the_ledger_and_shows_only_committed_values(tmp_path: Path) -> None:
    with TestClient(create_app(settings(tmp_path), clock=Clock())) as client:
        client.post("/v1/surveys", json={"score": 10})
        ledger = client.app.state.sidecar.ledger  # type: ignore[attr-defined]
        scraped: list[str] = []
        posted: list[int] = []
        with ledger.lock:  # as the writer holds it through a group's commit
            post = threading.Thread(target=lambda: posted.append(
                client.post("/v1/surveys", json={"score": 10}).status_code))
            post.start()  # queued: the writer waits for the lock
            scrape = threading.Thread(target=lambda: scraped.append(client.get("/metrics").text))
            scrape.start()
            scrape.join(WAIT_LIMIT_S)
            assert scraped, "the scrape waited for the writer's lock"
            assert not posted, "the second survey was committed while the ledger was held"
        post.join(WAIT_LIMIT_S)
        final = client.get("/metrics").text
    assert posted == [200]
    assert sample(scraped[0], "aivitals_survey_responses_total", {"category": "promoter"}) == 1
    assert sample(final, "aivitals_survey_responses_total", {"category": "promoter"}) == 2
