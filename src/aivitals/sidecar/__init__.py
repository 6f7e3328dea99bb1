"""The sidecar: a durable event API for what an application cannot see at call time.

Delayed labels, business outcomes, users, human feedback, incidents and model
lifecycle arrive as events over HTTP, are committed to SQLite before the
answer, and are exposed as the catalogue's metrics on /metrics.

The server needs the ``sidecar`` extra (FastAPI, uvicorn); ``client`` and
``settings`` need only the standard library, so importing this package is cheap
and the server parts load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "Sidecar": "app",
    "create_app": "app",
    "BackgroundSidecar": "server",
    "main": "server",
    "serve": "server",
    "EventStore": "store",
    "SQLiteStore": "store",
    "StoreError": "store",
    "Settings": "settings",
    "SettingsError": "settings",
    "load_settings": "settings",
    "SidecarClient": "client",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
