"""Refusals (vital #15): the provider's own signal first, then refusals written in text.

Provider signals: OpenAI ``message.refusal`` (also ``delta.refusal`` in a stream
chunk) and a ``refusal`` output part, ``finish_reason == "content_filter"``,
Anthropic ``stop_reason == "refusal"``. Without one, the opening of the text is
read for a first-person decline ("I can't help with that", "I must decline") or
a RAG non-answer ("the documents don't mention ..."). Only the first two
sentences are read: a refusal leads, an answer that later says "I can't
guarantee" does not decline. Apologies for something else ("sorry to hear that")
and mentions of policy do not match, because every pattern needs a declining
verb with its object.

Score: ``flag`` = refused (provider signal, else text pattern); ``method`` says which.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ..usage import refused as provider_refused
from .base import LEXICAL, PROVIDER, Sample, Verdict
from .text import sentences

_VERB = (r"(?:help|assist|provide|comply|fulfil+|answer|respond|share|give|do|support|create|generate|write|"
         r"engage|discuss|disclose|reveal|complete|process|offer|recommend|advise|access|look|find|continue|"
         r"participate|produce|make)")
_CANT = r"(?:can(?:no|')?t|can ?not|won'?t|will not|am (?:not able|unable)|'m (?:not able|unable)|am not allowed|" \
        r"'m not allowed|am not permitted|'m not permitted|must decline|have to decline|need to decline|" \
        r"(?:do|does)(?:n'?t| not) (?:have (?:the )?(?:ability|permission)))"
_SOURCES = r"(?:documents?|context|sources?|passages?|provided (?:text|information|material)|information provided|" \
           r"materials?|knowledge base|articles?|records?|excerpts?|search results)"

_PATTERNS = tuple(re.compile(p, re.IGNORECASE) for p in (
    rf"\bI\s*{_CANT}\b(?:\s+\w+){{0,3}}?\s+{_VERB}\b",
    r"\bI (?:must|have to|need to|'ll have to|will have to) (?:respectfully )?decline\b",
    r"\bI(?:'m| am) (?:sorry|afraid),? (?:but )?(?:I|that|this)\b[^.]{0,40}\b(?:can(?:no|')?t|cannot|won'?t|"
    r"unable|not able|not something)\b",
    r"\b(?:that|this)(?:'s| is) not something I (?:can|am able to|'m able to|will)\b",
    r"\bI(?:'m| am) not (?:able|allowed|permitted|comfortable) (?:to )?\w+",
    r"\bas an AI\b[^.]{0,60}\b(?:can(?:no|')?t|cannot|unable|not able|don'?t)\b",
    rf"\b(?:the|these|those|provided|available|given|retrieved) {_SOURCES}\b[^.]{{0,30}}\b(?:do(?:es)?(?:n'?t| not)|"
    r"did(?:n'?t| not)|never) (?:mention|contain|include|say|cover|provide|specify|address|discuss|state|"
    r"describe|have)\b",
    rf"\b(?:there is|there's|I (?:could|can)(?:n'?t| not) find|I found|I have) no (?:relevant )?"
    rf"(?:information|mention|details?|data)\b[^.]{{0,60}}\b(?:in|within|from) (?:the |these |my )?"
    rf"(?:provided |given |retrieved |available )?{_SOURCES}",
    r"\bI (?:could|can)(?:n'?t| ?not) find (?:any )?(?:relevant )?(?:information|an answer|anything|details?)\b",
    r"\bI (?:do not|don'?t) (?:have|know) (?:enough |any |the )?(?:information|details|context|data|answer)\b"
    r"(?! (?:yet|right now)\b[^.]{0,20}\bbut)",
    r"\bI (?:do not|don'?t) know\b\s*[.!]?$",
    r"\bnot able to (?:help|assist) with (?:that|this)\b",
))
#: Phrases that look like a decline but are not one.
_NOT_REFUSAL = re.compile(r"\b(?:can(?:no|')?t|cannot) (?:stress|emphasi[sz]e|recommend|thank|wait|believe|"
                          r"overstate)\b[^.]{0,40}\benough\b|\bcan(?:no|')?t wait\b|\bcan(?:no|')?t believe\b",
                          re.IGNORECASE)


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


def _choices(response: Any) -> Iterable[Any]:
    choices = _get(response, "choices")
    return choices if isinstance(choices, (list, tuple)) else ()


def provider_signal(response: Any) -> bool | None:
    """True when the provider marked a refusal, False when it marked a normal end, None without a signal."""
    if response is None or isinstance(response, (str, bytes, int, float, bool)):
        return None
    try:
        if provider_refused(response):
            return True
        ended = False
        for choice in _choices(response):
            if _get(_get(choice, "delta"), "refusal"):
                return True
            reason = _get(choice, "finish_reason")
            if reason == "content_filter":
                return True
            ended = ended or reason is not None
        stop = _get(response, "stop_reason")
        return False if ended or stop is not None else None
    except Exception:
        return None  # an odd provider object is no signal, never an error


def refused_in_text(text: str) -> bool:
    """Whether the opening two sentences of ``text`` decline or say the sources lack the answer."""
    opening = " ".join(sentences(text[:600])[:2])
    if not opening:
        return False
    cleaned = _NOT_REFUSAL.sub(" ", opening.replace("’", "'"))
    return any(pattern.search(cleaned) for pattern in _PATTERNS)


class Refusal:
    """Refusal from the provider's signal, else from the text."""

    name = "refusal"

    def evaluate(self, sample: Sample) -> Verdict:
        signal = provider_signal(sample.provider_response)
        if signal:
            return Verdict(self.name, PROVIDER, flag=True)
        return Verdict(self.name, LEXICAL, flag=refused_in_text(sample.response))
