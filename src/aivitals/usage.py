"""Token usage, refusals and model names read from the response shapes users get.

Supported without configuration: OpenAI chat completions and Responses API
objects (cached input and reasoning tokens, the final usage chunk of a
stream), Anthropic messages (cache read and cache creation tokens, stream
events), and the same shapes as plain dicts. Attribute access that raises is
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
        # OpenAI chat completions: prompt_tokens includes cached tokens.
        return Usage.of(
            input=prompt,
            output=_get(usage, "completion_tokens"),
            cached_input=_get(_get(usage, "prompt_tokens_details"), "cached_tokens"),
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
        )
    if _get(usage, "input_tokens") is not None or _get(usage, "output_tokens") is not None:
        # OpenAI Responses API (and plain dicts): input_tokens includes cached tokens.
        return Usage.of(
            input=_get(usage, "input_tokens"),
            output=_get(usage, "output_tokens"),
            cached_input=_get(_get(usage, "input_tokens_details"), "cached_tokens"),
            reasoning=_get(_get(usage, "output_tokens_details"), "reasoning_tokens"),
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

    OpenAI: a ``refusal`` on the first choice's message or a ``refusal`` output part;
    Anthropic: ``stop_reason == "refusal"``.
    """
    if response is None or isinstance(response, (str, bytes, int, float, bool)):
        return False
    if _get(response, "stop_reason") == "refusal":
        return True
    choices = _get(response, "choices")
    if choices:
        first = choices[0]
        if _get(_get(first, "message"), "refusal"):
            return True
    output = _get(response, "output")
    if isinstance(output, list):
        for item in output:
            for part in _get(item, "content") or ():
                if _get(part, "type") == "refusal":
                    return True
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
        message = choices[0].get("message") if type(choices[0]) is dict else None
        return bool(message.get("refusal")) if type(message) is dict else refused(response)
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
                cached = (details.get("cached_tokens") or 0) if type(details) is dict else 0
                details = usage.get("completion_tokens_details")
                reasoning = (details.get("reasoning_tokens") or 0) if type(details) is dict else 0
                if (type(prompt) is int and type(completion) is int and type(cached) is int
                        and type(reasoning) is int and 0 <= cached <= prompt <= MAX_TOKENS
                        and 0 <= reasoning <= completion <= MAX_TOKENS):
                    return (prompt, completion, cached, 0, reasoning), _refused_openai_dict(response)
    elif response is None or isinstance(response, (str, bytes, int, float, bool)):
        return None
    found = usage_from(_get(response, "usage"))
    counts = None
    if found is not None:
        counts = (found.input, found.output, found.cached_input, found.cache_creation, found.reasoning)
    return counts, refused(response)
