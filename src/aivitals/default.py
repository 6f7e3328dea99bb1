"""The default tracker behind ``aivitals.track`` and friends, registered on prometheus_client's global registry.

Created on first use (or by ``configure``); its own module so that the package
root and the exposition both reach it without importing each other.
"""

from __future__ import annotations

import threading
from typing import Any

from .tracker import Tracker

_default: Tracker | None = None
_default_lock = threading.Lock()


def configure(**kwargs: Any) -> Tracker:
    """Create the default tracker with these Tracker arguments (call once, before the first track)."""
    global _default
    import prometheus_client

    with _default_lock:
        if _default is not None:
            prometheus_client.REGISTRY.unregister(_default.collector())
            if _default.evaluator is not None and _default.evaluator.collector is not None:
                prometheus_client.REGISTRY.unregister(_default.evaluator.collector)
                _default.evaluator.stop()
        _default = Tracker(prometheus_client.REGISTRY, **kwargs)
        return _default


def default_tracker() -> Tracker:
    """The tracker behind ``aivitals.track``, registered on prometheus_client.REGISTRY."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                import prometheus_client

                _default = Tracker(prometheus_client.REGISTRY)
    return _default
