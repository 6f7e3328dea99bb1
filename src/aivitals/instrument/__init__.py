"""``aivitals.instrument()``: the OpenAI, Anthropic and LiteLLM clients measured without a decorator.

Importing aivitals imports none of the clients; ``instrument`` imports those that
are installed and patches their methods, once. A library that is not installed,
or whose layout aivitals does not recognise, is left alone with one log line.
``uninstrument`` puts back the original objects.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ._core import ACTIVE, Instrumentation, log

if TYPE_CHECKING:
    from ..tracker import Tracker

__all__ = ["LIBRARIES", "instrument", "uninstrument"]

#: The client libraries aivitals instruments, each by the module of the same name in this package.
LIBRARIES = ("openai", "anthropic", "litellm")
_lock = threading.Lock()


def instrument(tracker: Tracker, target: Any = None) -> list[str]:
    """Patch every installed client library, one library (its module), or one client object.

    Returns the methods patched, as ``library:Class.method``. Never raises: a
    failure is logged once and counted in ``aivitals_sdk_errors_total{stage="decorate"}``.
    """
    with _lock:
        inst = ACTIVE[0]
        if inst is None:
            inst = ACTIVE[0] = Instrumentation(tracker)
        else:
            inst.use(tracker)
        done: list[str] = []
        for library in _libraries_of(target):
            done += [f"{library}:{name}" for name in _instrument_one(inst, library, target)]
        return done


def uninstrument() -> None:
    """Restore every patched method to the original object and stop recording."""
    with _lock:
        inst = ACTIVE[0]
        ACTIVE[0] = None
        if inst is not None:
            inst.restore()


def _libraries_of(target: Any) -> tuple[str, ...]:
    if target is None:
        return LIBRARIES
    module = target.__name__ if isinstance(target, ModuleType) else type(target).__module__
    library = module.partition(".")[0] if isinstance(module, str) else ""
    if library in LIBRARIES:
        return (library,)
    log.info("aivitals: instrument() does not know %s objects; nothing patched", type(target).__name__)
    return ()


#: Libraries that reach the network when imported (LiteLLM fetches its price map): instrument() with no
#: target patches them only once the application has imported them itself, so aivitals never causes a fetch.
_IMPORT_FETCHES = ("litellm",)


def _instrument_one(inst: Instrumentation, library: str, target: Any) -> list[str]:
    if importlib.util.find_spec(library) is None:
        log.info("aivitals: %s is not installed; not instrumented", library)
        return []
    if target is None and library in _IMPORT_FETCHES and library not in sys.modules:
        log.info("aivitals: %s is installed but not imported (importing it fetches its price map); import it "
                 "before aivitals.instrument(), or call aivitals.instrument(%s)", library, library)
        return []
    client_target = None if target is None or isinstance(target, ModuleType) else target
    try:
        patcher: Callable[[Instrumentation, Any], list[str]] = importlib.import_module(
            f"{__name__}.{library}").instrument
        done = patcher(inst, client_target)
    except Exception as exc:  # a layout we do not know: leave the client as it is
        inst.tracker.health.error("decorate", exc)
        log.info("aivitals: this %s version is not one aivitals recognises (%s); not instrumented",
                 library, type(exc).__name__)
        return []
    if not done:
        log.info("aivitals: found nothing to instrument in %s", library)
    return done
