"""Token usage, refusals and model names read from the response shapes users get.

Supported without configuration: OpenAI chat completions and Responses API
objects (cached input, cache writes ``cache_write_tokens`` and reasoning
tokens, the final usage chunk of a stream), Anthropic messages (cache read and
cache creation tokens, thinking tokens ``output_tokens_details.thinking_tokens``
as reasoning, stream events), LiteLLM's OpenAI-shaped usage in front of
Anthropic (cache writes on ``cache_creation_input_tokens``), and the same
shapes as plain dicts. Attribute access that raises is
the caller's problem to count: these functions let it propagate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .inputs import MAX_TOKENS, InvalidInput
from .inputs import count as _count


def _get(obj: Any, name: str) -> Any:
    """``obj.name`` or ``obj[name]``; None when absent."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _first(*values: Any) -> Any:
    """The first value that is not None: one quantity under several providers' spellings, never summed."""
    for value in values:
        if value is not None:
            return value
    return None


class UsageError(InvalidInput):
    """A token count that is not a finite, non-negative whole number, or a part larger than its total."""


@dataclass
class Usage:
    """Tokens of one call. ``input`` includes cached and cache-creation input; ``output`` includes reasoning."""

    input: int = 0
    output: int = 0
    cached_input: int = 0
    cache_creation: int = 0
    reasoning: int = 0

    @classmethod
    def of(cls, input: Any = 0, output: Any = 0, cached_input: Any = 0, cache_creation: Any = 0,
           reasoning: Any = 0) -> Usage:
        """Validated usage: raises UsageError on NaN, negative, non-numeric or inconsistent counts."""
        try:
            usage = cls(_count(input), _count(output), _count(cached_input), _count(cache_creation),
                        _count(reasoning))
        except InvalidInput as exc:
            raise UsageError(str(exc)) from None
        if usage.cached_input + usage.cache_creation > usage.input or usage.reasoning > usage.output:
            raise UsageError("a part of the tokens exceeds its total")
        return usage

    def checked(self) -> Usage:
        """A validated copy: a Usage built by user code (an extractor, a response) is checked like any count."""
        return Usage.of(self.input, self.output, self.cached_input, self.cache_creation, self.reasoning)

    def merge_max(self, other: Usage) -> None:
        """Fold a later stream report into this one (stream reports are cumulative)."""
        self.input = max(self.input, other.input)
        self.output = max(self.output, other.output)
        self.cached_input = max(self.cached_input, other.cached_input)
        self.cache_creation = max(self.cache_creation, other.cache_creation)
        self.reasoning = max(self.reasoning, other.reasoning)


def usage_from(usage: Any) -> Usage | None:
    """Read a provider's usage object or dict into Usage."""
    if usage is None:
        return None
    if isinstance(usage, Usage):
        return usage.checked()
    prompt = _get(usage, "prompt_tokens")
    if prompt is not None or _get(usage, "completion_tokens") is not None:
        # OpenAI chat completions (and LiteLLM's usage): prompt_tokens includes cache reads and writes.
        details = _get(usage, "prompt_tokens_details")
        return Usage.of(
            input=prompt,
            output=_get(usage, "completion_tokens"),
            cached_input=_get(details, "cached_tokens"),
            cache_creation=_first(_get(details, "cache_write_tokens"), _get(details, "cache_creation_tokens"),
                                  _get(usage, "cache_creation_input_tokens")),
            reasoning=_get(_get(usage, "completion_tokens_details"), "reasoning_tokens"),
        )
    cache_read = _get(usage, "cache_read_input_tokens")
    cache_write = _get(usage, "cache_creation_input_tokens")
    has_anthropic_keys = (isinstance(usage, dict) and (
        "cache_read_input_tokens" in usage or "cache_creation_input_tokens" in usage)) or (
        not isinstance(usage, dict) and (hasattr(usage, "cache_read_input_tokens")
                                         or hasattr(usage, "cache_creation_input_tokens")))
    if has_anthropic_keys:
        # Anthropic: input_tokens excludes cache reads and writes; add them to get the total.
        try:
            read, write, plain = _count(cache_read), _count(cache_write), _count(_get(usage, "input_tokens"))
        except InvalidInput as exc:
            raise UsageError(str(exc)) from None
        return Usage.of(
            input=plain + read + write,
            output=_get(usage, "output_tokens"),
            cached_input=read,
            cache_creation=write,
            reasoning=_get(_get(usage, "output_tokens_details"), "thinking_tokens"),
        )
    if _get(usage, "input_tokens") is not None or _get(usage, "output_tokens") is not None:
        # OpenAI Responses API (and plain dicts): input_tokens includes cache reads and writes.
        details = _get(usage, "input_tokens_details")
        output_details = _get(usage, "output_tokens_details")
        return Usage.of(
            input=_get(usage, "input_tokens"),
            output=_get(usage, "output_tokens"),
            cached_input=_get(details, "cached_tokens"),
            cache_creation=_get(details, "cache_write_tokens"),
            reasoning=_first(_get(output_details, "reasoning_tokens"), _get(output_details, "thinking_tokens")),
        )
    return None


def usage_of_response(response: Any) -> Usage | None:
    """Usage of a complete response, or None if it carries none."""
    if response is None or isinstance(response, (str, bytes, int, float, bool)):
        return None
    return usage_from(_get(response, "usage"))


def usage_of_chunk(chunk: Any) -> Usage | None:
    """Usage reported by one stream chunk or event, if any.

    OpenAI chat streams carry it on the last chunk (``stream_options={"include_usage": True}``);
    Responses streams on the ``response.completed`` event; Anthropic streams on
    ``message_start`` (input) and ``message_delta`` (cumulative output).
    """
    if chunk is None or isinstance(chunk, (str, bytes)):
        return None
    usage = _get(chunk, "usage")
    if usage is None:
        usage = _get(_get(chunk, "message"), "usage") or _get(_get(chunk, "response"), "usage")
    return usage_from(usage) if usage is not None else None


def refused(response: Any) -> bool:
    """Whether the provider marked the response a refusal.

    OpenAI: a ``refusal`` on the first choice's message, ``finish_reason == "content_filter"``
    or a ``refusal`` output part; Anthropic: ``stop_reason == "refusal"``.
    """
    if response is None or isinstance(response, (str, bytes, int, float, bool)):
        return False
    if _get(response, "stop_reason") == "refusal":
        return True
    choices = _get(response, "choices")
    if choices:
        first = choices[0]
        if _get(_get(first, "message"), "refusal") or _get(first, "finish_reason") == "content_filter":
            return True
    output = _get(response, "output")
    if isinstance(output, list):
        for item in output:
            for part in _get(item, "content") or ():
                if _get(part, "type") == "refusal":
                    return True
    return False


#: Responses API stream events that carry a refusal.
_REFUSAL_EVENTS = frozenset({"response.refusal.delta", "response.refusal.done"})


def chunk_refused(chunk: Any) -> bool:
    """Whether one stream chunk or event marks a refusal.

    OpenAI chat: ``delta.refusal`` or ``finish_reason == "content_filter"`` on the first choice;
    Responses: a ``response.refusal.*`` event; Anthropic: ``message_delta`` with
    ``delta.stop_reason == "refusal"``.
    """
    if chunk is None or isinstance(chunk, (str, bytes)):
        return False
    choices = _get(chunk, "choices")
    if choices:
        first = choices[0]
        return bool(_get(_get(first, "delta"), "refusal")) or _get(first, "finish_reason") == "content_filter"
    delta = _get(chunk, "delta")
    if delta is not None and not isinstance(delta, str) and _get(delta, "stop_reason") == "refusal":
        return True
    kind = _get(chunk, "type")
    return (isinstance(kind, str) and kind in _REFUSAL_EVENTS) or _get(chunk, "stop_reason") == "refusal"


def chunk_model(chunk: Any) -> str | None:
    """The model a stream chunk names: on every OpenAI chunk, Anthropic's ``message_start``, Responses events."""
    if chunk is None or isinstance(chunk, (str, bytes)):
        return None
    model = _get(chunk, "model")
    if model is None:
        model = _get(_get(chunk, "message"), "model") or _get(_get(chunk, "response"), "model")
    return model if isinstance(model, str) else None


#: The stream classes of the OpenAI and Anthropic clients, by module and name (never imported here).
_SDK_STREAMS = frozenset({("openai", "Stream"), ("openai", "AsyncStream"), ("anthropic", "Stream"),
                          ("anthropic", "AsyncStream"), ("litellm", "CustomStreamWrapper")})


def is_sdk_stream(response: Any) -> bool:
    """Whether a tracked function returned a client's stream unread: its tokens arrive after the call ends."""
    kind = type(response)
    try:
        module, name = kind.__module__, kind.__name__
        return type(module) is str and (module.partition(".")[0], name) in _SDK_STREAMS
    except Exception:  # a class whose metaclass answers anything, or raises
        return False


def model_of(response: Any) -> str | None:
    """The model name a response reports, if any."""
    if response is None or isinstance(response, (str, bytes, int, float, bool)):
        return None
    model = _get(response, "model")
    return model if isinstance(model, str) else None


Counts = tuple[int, int, int, int, int]


def _refused_openai_dict(response: dict[str, Any]) -> bool:
    choices = response.get("choices")
    if choices and type(choices) is list:
        first = choices[0]
        message = first.get("message") if type(first) is dict else None
        if type(message) is not dict:
            return refused(response)
        return bool(message.get("refusal")) or first.get("finish_reason") == "content_filter"
    return response.get("stop_reason") == "refusal" or (bool(response.get("output")) and refused(response))


def read_response(response: Any) -> tuple[Counts | None, bool] | None:
    """(token counts, refused) of a response; the fold's per-call work, so it has a fast path.

    Token counts are (input, output, cached_input, cache_creation, reasoning).
    Raises UsageError for counts that are not finite non-negative whole numbers.
    """
    if type(response) is dict:
        usage = response.get("usage")
        if type(usage) is dict:
            prompt = usage.get("prompt_tokens")
            if prompt is not None:  # OpenAI chat completion as a dict: the common case, read inline
                completion = usage.get("completion_tokens") or 0
                details = usage.get("prompt_tokens_details")
                if type(details) is dict:
                    cached = details.get("cached_tokens") or 0
                    written = details.get("cache_write_tokens") or details.get("cache_creation_tokens") or 0
                else:
                    cached = written = 0
                details = usage.get("completion_tokens_details")
                reasoning = (details.get("reasoning_tokens") or 0) if type(details) is dict else 0
                if (type(prompt) is int and type(completion) is int and type(cached) is int
                        and type(written) is int and type(reasoning) is int
                        and cached >= 0 and written >= 0 and cached + written <= prompt <= MAX_TOKENS
                        and 0 <= reasoning <= completion <= MAX_TOKENS
                        and (written or "cache_creation_input_tokens" not in usage)):
                    return (prompt, completion, cached, written, reasoning), _refused_openai_dict(response)
    elif response is None or isinstance(response, (str, bytes, int, float, bool)):
        return None
    found = usage_from(_get(response, "usage"))
    counts = None
    if found is not None:
        counts = (found.input, found.output, found.cached_input, found.cache_creation, found.reasoning)
    return counts, refused(response)
