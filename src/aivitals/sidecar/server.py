"""``aivitals serve``: run the sidecar under uvicorn with one worker.

One worker because the store has one writer: group commit shares each fsync
among all concurrent requests, which is what makes durable ingest fast.
"""

from __future__ import annotations

import argparse
import dataclasses
import ipaddress
import os
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .keys import KEY_ENV
from .settings import Settings, SettingsError, ThresholdsError, load_settings, store_name
from .store import StoreError

#: The bearer token is read from the environment, never from the command line (ps shows argv).
TOKEN_ENV = "AIVITALS_API_TOKEN"
#: A postgresql:// URL with its password, from a Secret, when --store is not given.
STORE_URL_ENV = "AIVITALS_STORE_URL"


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach ``host``: localhost, 127.0.0.0/8 or ::1."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def check_exposure(settings: Settings) -> None:
    """SettingsError when the API would take unauthenticated writes from the network.

    Without a token /v1 is open to whoever can connect; on loopback that is this
    machine's processes only, anywhere else it is the network.
    """
    if settings.token is None and not is_loopback(settings.host):
        raise SettingsError(f"refusing to listen on {settings.host} without an API token: set {TOKEN_ENV} (or token "
                            "in the --config file), or listen on 127.0.0.1")


def serve(settings: Settings) -> None:
    """Serve until SIGINT or SIGTERM; queued events are committed before exit.

    Raises OSError or sqlite3.Error when the store cannot be opened.
    """
    import uvicorn

    from .app import create_app

    check_exposure(settings)
    app = create_app(settings)
    uvicorn.run(app, host=settings.host, port=settings.port, workers=1, lifespan="on",
                access_log=settings.access_log, log_level="info", server_header=False)


class BackgroundSidecar:
    """The sidecar under uvicorn in a daemon thread, for the demo and tests; port 0 picks a free one.

    ``with BackgroundSidecar(settings) as url: SidecarClient(url).send(...)``
    """

    def __init__(self, settings: Settings) -> None:
        import uvicorn

        from .app import create_app

        check_exposure(settings)
        self.app = create_app(settings)
        config = uvicorn.Config(self.app, host=settings.host, port=settings.port, lifespan="on",
                                access_log=settings.access_log, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="aivitals-sidecar-server", daemon=True)
        self.url = ""

    def start(self, timeout: float = 30.0) -> str:
        """Serve; returns the base URL once the sidecar accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.app.state.sidecar.close()
                raise OSError(f"the sidecar did not start on {self._server.config.host}:{self._server.config.port}")
            time.sleep(0.01)
        host, port = self._server.servers[0].sockets[0].getsockname()[:2]
        self.url = f"http://{host}:{port}"
        return self.url

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the requests in flight, commit what is queued, close the store."""
        self._server.should_exit = True
        self._thread.join(timeout)
        self.app.state.sidecar.close()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", help="SQLite file holding the sidecar's state (default: aivitals-sidecar.db), "
                        "or a postgresql:// URL shared by several replicas (a password is better given in "
                        f"${STORE_URL_ENV} or $PGPASSWORD than on the command line)")
    parser.add_argument("--replica-id", help="this replica's name on a PostgreSQL store (default: $POD_NAME, "
                        "then $HOSTNAME); two running replicas may not share one")
    parser.add_argument("--host", help="address to listen on (default: 127.0.0.1); any address but loopback "
                        f"needs an API token (${TOKEN_ENV})")
    parser.add_argument("--port", type=int, help="port to listen on (default: 9477)")
    parser.add_argument("--config", type=Path, help="YAML or JSON file of settings (KPIs, cohorts, fairness "
                        f"groups, costs, retention); the bearer token comes from ${TOKEN_ENV}")
    parser.add_argument("--thresholds", type=Path, help="YAML or JSON thresholds file (aivitals.config), exported "
                        "as aivitals_threshold series for the alerts to read")


def settings_from_args(args: argparse.Namespace) -> Settings:
    settings = load_settings(args.config) if args.config else Settings()
    overrides: dict[str, Any] = {k: v for k in ("host", "port", "thresholds", "replica_id")
                                 if (v := getattr(args, k, None)) is not None}
    store = getattr(args, "store", None) or os.environ.get(STORE_URL_ENV)
    if store is not None and store.startswith(("postgresql://", "postgres://")):
        overrides["store_url"] = store
    elif store is not None:
        overrides["store"] = Path(store)
    token = os.environ.get(TOKEN_ENV)
    if token:
        overrides["token"] = token
    key = os.environ.get(KEY_ENV)
    if key:
        overrides["user_key_secret"] = key
    return dataclasses.replace(settings, **overrides)


def run(args: argparse.Namespace) -> int:
    try:
        settings = settings_from_args(args)
    except (SettingsError, OSError) as exc:
        print(f"aivitals serve: {exc}", file=sys.stderr)
        return 2
    try:
        serve(settings)
    except (ThresholdsError, SettingsError) as exc:
        print(f"aivitals serve: {exc}", file=sys.stderr)
        return 2
    except (OSError, sqlite3.Error, StoreError) as exc:
        print(f"aivitals serve: cannot open the store {store_name(settings)}: {exc}", file=sys.stderr)
        return 1
    except ImportError as exc:
        print(f"aivitals serve: the module {exc.name} is missing: pip install 'aivitals[sidecar,postgres]'",
              file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    """``aivitals serve [--store PATH|URL] [--replica-id ID] [--host HOST] [--port PORT] [--config FILE]``."""
    parser = argparse.ArgumentParser(prog="aivitals serve", description="Run the aivitals sidecar.")
    add_arguments(parser)
    return run(parser.parse_args(argv))
