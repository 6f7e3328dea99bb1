"""The Anthropic client: ``messages.create`` (plain and ``stream=True``) and ``messages.stream``, sync and async.

``messages.stream`` does not go through ``create``: its manager holds the request
in a private attribute, which is wrapped so the raw event stream is measured
in place. A client whose manager is laid out differently keeps an unpatched
``stream`` (one log line), never a broken one.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from ._core import _INSIDE, ACTIVE, CallRecorder, Instrumentation, Operation, log, patch
from ._stream import measure_sdk_stream
from ._wrap import stainless

_MESSAGES = "anthropic.resources.messages.messages"
_MANAGERS = "anthropic.lib.streaming._messages"


def instrument(inst: Instrumentation, target: Any = None) -> list[str]:
    """Patch the installed client's Messages classes, or only one client's ``messages``; the names patched."""
    module = importlib.import_module(_MESSAGES)
    managers = importlib.import_module(_MANAGERS)
    done: list[str] = []
    for prefix in ("", "Async"):
        cls = getattr(module, prefix + "Messages", None)
        if cls is None:
            continue
        owner: Any = cls
        if target is not None:
            owner = getattr(target, "messages", None)
            if not isinstance(owner, cls):
                continue
        op = Operation("chat", "anthropic", is_async=bool(prefix))
        instance = target is not None
        if patch(inst, owner, "create", partial(stainless, op=op), instance=instance):
            done.append(f"{prefix}Messages.create")
        manager = getattr(managers, prefix + "MessageStreamManager", None)
        attribute = f"_{prefix}MessageStreamManager__api_request"
        if manager is None or attribute not in manager.__init__.__code__.co_names:
            log.info("aivitals: this anthropic version's %sMessageStreamManager is not one aivitals knows; "
                     "%sMessages.stream is left unpatched", prefix, prefix)
            continue
        if patch(inst, owner, "stream", partial(_stream, op=op, attribute=attribute),
                 instance=instance):
            done.append(f"{prefix}Messages.stream")
    return done


def _stream(original: Callable[..., Any], op: Operation, attribute: str) -> Callable[..., Any]:
    """``messages.stream``: the client's own manager, its request measured when it is entered."""

    def stream(*args: Any, **kwargs: Any) -> Any:
        manager = original(*args, **kwargs)
        inst = ACTIVE[0]
        if inst is None or _INSIDE.get():
            return manager
        try:
            request = getattr(manager, attribute)
            recorder = CallRecorder(inst, op, kwargs)
            setattr(manager, attribute, _measured_async(request, recorder) if op.is_async
                    else _measured_request(request, recorder))
        except Exception as exc:
            inst.tracker.health.error("decorate", exc)
        return manager

    return stream


def _measured_request(request: Callable[[], Any], recorder: CallRecorder) -> Callable[[], Any]:
    def measured() -> Any:
        recorder.start = recorder.inst.clock()
        try:
            raw = request()
        except BaseException as exc:
            recorder.failed(exc)
            raise
        measure_sdk_stream(raw, recorder, False)
        return raw

    return measured


async def _measured_async(request: Awaitable[Any], recorder: CallRecorder) -> Any:
    recorder.start = recorder.inst.clock()
    try:
        raw = await request
    except BaseException as exc:
        recorder.failed(exc)
        raise
    measure_sdk_stream(raw, recorder, True)
    return raw
