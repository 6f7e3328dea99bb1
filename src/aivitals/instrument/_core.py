"""What every client instrumentation shares: the patch ledger and the per-call recorder.

A patch replaces one attribute of a client class or module and remembers the
original object, so ``uninstrument`` puts back the very same object. Wrappers
look up the active instrumentation on every call: a wrapper captured before
``uninstrument`` (a bound method kept by user code) then passes straight through.
aivitals never raises into the caller here: the user's exceptions pass
unchanged, aivitals' own failures are counted in ``aivitals_sdk_errors_total``.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._series import CallState
from ..call import Stream, classify
from ..track import Track

if TYPE_CHECKING:
    from ..tracker import Tracker

log = logging.getLogger("aivitals")

#: Set while an instrumented call runs: a client called by another (LiteLLM calls the OpenAI client)
#: is then measured once, by the outer one.
_INSIDE: contextvars.ContextVar[bool] = contextvars.ContextVar("aivitals_instrumented_call", default=False)


@dataclass(frozen=True)
class Operation:
    """One patched entry point: what it does, who serves it, how its request reads."""

    operation: str  # the catalogue's operation label: chat, embeddings
    provider: str | None  # None: from the model (LiteLLM's "anthropic/..." prefix) or the price table
    is_async: bool = False
    #: OpenAI chat streams send usage only when asked: ask, and hide the extra chunk from the caller.
    ask_stream_usage: bool = False
    #: Ask through ``extra_body`` when the caller set neither: a Stainless client (OpenAI) sends it as is,
    #: where its typed transform of ``stream_options`` costs ~12 µs a call; the server gets the same JSON.
    ask_in_extra_body: bool = False
    #: The request model's "provider/" prefix names the provider (LiteLLM).
    model_prefix: bool = False


#: Tracks one instrumentation keeps (one per operation, provider and request model), at most.
MAX_TRACKS = 256


class Instrumentation:
    """The active instrumentation: the tracker calls are recorded into, and the patches it made."""

    def __init__(self, tracker: Tracker) -> None:
        self.patches: list[tuple[Any, str, Any]] = []
        self.use(tracker)

    def use(self, tracker: Tracker) -> None:
        """Record into ``tracker`` from now on (the last ``instrument`` call's tracker wins)."""
        self.tracker = tracker
        self.clock = tracker.clock
        self._tracks: dict[tuple[str, str | None, str | None], Track] = {}

    def track(self, operation: str, provider: str | None, model: str | None) -> Track:
        """The Track of one (operation, provider, model): its series is resolved once, not on every call.

        Model None (a request without one), or more models than ``MAX_TRACKS``: the
        model-less Track, whose calls each carry their model and resolve their series.
        """
        found = self._tracks.get((operation, provider, model))
        if found is None:
            if model is not None and len(self._tracks) >= MAX_TRACKS:
                return self.track(operation, provider, None)
            found = self._tracks[(operation, provider, model)] = Track(self.tracker, model, operation, provider, None)
        return found

    def restore(self) -> None:
        """Put every original back, newest first, as the very same objects."""
        for owner, name, original in reversed(self.patches):
            try:
                if original is _ABSENT:
                    delattr(owner, name)
                else:
                    setattr(owner, name, original)
            except Exception as exc:
                self.tracker.health.error("decorate", exc)
        self.patches.clear()


#: The instrumentation wrappers record into; None once uninstrumented.
ACTIVE: list[Instrumentation | None] = [None]
#: Attribute set on every wrapper we install, naming the original it wraps.
WRAPPED = "__aivitals_wrapped__"


#: A patch on one object (a client's resource) is undone by removing our attribute.
_ABSENT = object()


def patch(inst: Instrumentation, owner: Any, name: str, make: Callable[[Any], Any], instance: bool = False) -> bool:
    """Replace ``owner.name`` by ``make(original)``, once; False when there is nothing to patch.

    ``instance``: ``owner`` is one object (a client's resource), patched through its
    own ``__dict__`` so its class and every other client stay as they are.
    """
    own = getattr(owner, "__dict__", {})
    current = own.get(name)
    if current is not None and getattr(current, WRAPPED, None) is not None:
        return True  # already ours (instrumenting twice)
    if instance:
        original, saved = getattr(owner, name, None), _ABSENT
    else:
        original = saved = current
    if original is None:
        return False
    wrapper = make(original)
    setattr(wrapper, WRAPPED, original)
    setattr(owner, name, wrapper)
    inst.patches.append((owner, name, saved))
    return True


def split_model(model: Any, prefixed: bool) -> tuple[str | None, str | None]:
    """(model, provider) of a request's model argument; ``anthropic/claude-x`` names both when prefixed."""
    if not isinstance(model, str):
        return None, None
    if prefixed and "/" in model:
        provider, _, name = model.partition("/")
        return name, provider
    return model, None


class CallRecorder:
    """One instrumented call: request facts in, a CallState out to the tracker."""

    __slots__ = ("ask_usage", "inst", "model", "op", "provider", "start", "unmetered")

    def __init__(self, inst: Instrumentation, op: Operation, kwargs: dict[str, Any]) -> None:
        self.inst = inst
        self.op = op
        self.model, self.provider = split_model(kwargs.get("model"), op.model_prefix)
        if self.provider is None:
            self.provider = op.provider
        self.unmetered: str | None = None
        self.ask_usage = False
        self.start = inst.clock()

    def prepare(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The request to send: an OpenAI-style stream asks for its usage unless the caller said no."""
        if not (self.op.ask_stream_usage and kwargs.get("stream") is True):
            return kwargs
        options = kwargs.get("stream_options")
        if isinstance(options, dict):
            if "include_usage" in options:
                if options["include_usage"] is not True:
                    self.unmetered = "usage_not_requested"
                return kwargs
            return self._asked({**kwargs, "stream_options": {**options, "include_usage": True}})
        if options is not None and type(options).__name__ not in ("NotGiven", "Omit"):
            return kwargs  # an options object aivitals does not know: sent as the caller wrote it
        if self.op.ask_in_extra_body and kwargs.get("extra_body") is None:
            return self._asked({**kwargs, "extra_body": {"stream_options": {"include_usage": True}}})
        return self._asked({**kwargs, "stream_options": {"include_usage": True}})

    def _asked(self, sent: dict[str, Any]) -> dict[str, Any]:
        self.ask_usage = True
        return sent

    def _track(self) -> tuple[Track, str | None]:
        """The Track to record into, and the model the call's state must name (None: the Track names it)."""
        track = self.inst.track(self.op.operation, self.provider, self.model)
        return track, (self.model if track.model is None else None)

    def failed(self, exc: BaseException) -> None:
        try:
            track, model = self._track()
            outcome, error_type = classify(exc)
            state = CallState(outcome=outcome, error_type=error_type, model=model)
            track.record_state(self.inst.clock() - self.start, state)
        except Exception as own:
            self.inst.tracker.health.error("record", own)

    def returned(self, response: Any, unmetered: str | None = None) -> None:
        """A complete response: usage, refusal and model are read from it at fold time."""
        try:
            track, model = self._track()
            state = CallState(response=response, model=model, unmetered=unmetered or self.unmetered)
            track.record_state(self.inst.clock() - self.start, state)
        except Exception as exc:
            self.inst.tracker.health.error("record", exc)

    def stream(self) -> Stream:
        """A stream timer started when the request was, for chunks that arrive later."""
        track, model = self._track()
        stream = Stream(track)
        stream.start = self.start
        stream.state.model = model
        return stream
