"""Groundedness (vital #11) and hallucination (vital #14), lexically, against the retrieved contexts.

A claim is a sentence of the response, not a question, with three content terms,
or two of which one is a number or a name ("Sorry to hear that!" and "Hope this
helps!" assert nothing). A claim is supported when

- every number in it (digits or words, "2" = "two", "$1,200" = "1200") occurs in the
  context, and every named entity (a capitalised word past the first) occurs there
  too: a changed figure or name is unsupported however much else overlaps; and
- its support ``s = 0.8 * |W ∩ Wc| / |W| + 0.2 * |P ∩ Pc| / |P|`` is at least
  ``threshold`` (0.55), where W are the claim's content stems, P its adjacent stem
  pairs (the 0.2 term is dropped, and the first weighted 1, for a claim with no
  pair), and Wc, Pc those of one context. Stems make inflections ("refunds",
  "refunded") meet.

Both conditions are checked against each context alone and the best one counts:
a "5" from the refunds chunk does not support "shipping takes 5 days".

Score: groundedness = supported claims / claims (None without contexts or without
claims); ``flag`` = hallucinated = at least one claim unsupported. Citation markers
are removed before claims are read, so "[2]" is neither a number nor a claim; so are
e-mail addresses and URLs (the PII evaluator reads those).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .base import LEXICAL, Sample, Verdict
from .text import Terms, sentences, terms

THRESHOLD = 0.55
_MARKERS = re.compile(r"\[\^?[\w.:#/ ,-]{1,80}\]|【[^】]*】|\((?:source|sources|ref|see)\s*:?[^)]*\)", re.IGNORECASE)
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_ADDRESSES = re.compile(r"\S+@\S+\.\w+|https?://\S+")


@dataclass(frozen=True)
class ClaimSupport:
    """One claim's support: ``score`` in 0..1 and whether it passes."""

    claim: str
    score: float
    supported: bool


def claims(response: str) -> list[str]:
    """The sentences of ``response`` that assert something."""
    return [claim for claim, _ in _claim_terms(response)]


def _claim_terms(response: str) -> list[tuple[str, Terms]]:
    text = _ADDRESSES.sub(" ", _MARKERS.sub(" ", _LINK.sub(r"\1", response)))
    found = [(sentence, terms(sentence)) for sentence in sentences(text)]
    return [(sentence, claim) for sentence, claim in found if _asserts(claim, sentence)]


def _asserts(found: Terms, sentence: str) -> bool:
    """A claim: not a question, with three content words, or two terms one of which is a number or a name."""
    if sentence.rstrip().endswith("?"):
        return False
    count = len(found.words) + len(found.numbers)
    return count >= 3 or (count >= 2 and bool(found.numbers or found.names))


def support(claim: Terms, context: Terms, threshold: float = THRESHOLD) -> tuple[float, bool]:
    """The support score of one claim's terms against the contexts' terms (formula in the module doc)."""
    if not claim.numbers <= context.numbers or not claim.names <= (context.words | context.names):
        return 0.0, False
    if not claim.words:
        return 1.0, True
    words = len(claim.words & context.words) / len(claim.words)
    pairs = len(claim.pairs & context.pairs) / len(claim.pairs) if claim.pairs else words
    score = 0.8 * words + 0.2 * pairs
    return score, score >= threshold


def claim_support(response: str, contexts: list[str], threshold: float = THRESHOLD) -> list[ClaimSupport]:
    """Each claim of ``response`` with its support by its best-supporting context."""
    known = [terms(text) for text in contexts]
    out = []
    for claim, found in _claim_terms(response):
        score = max((support(found, context, threshold)[0] for context in known), default=0.0)
        out.append(ClaimSupport(claim, score, score >= threshold))
    return out


class Groundedness:
    """Lexical groundedness; ``flag`` is the hallucination verdict."""

    name = "groundedness"

    def __init__(self, threshold: float = THRESHOLD) -> None:
        self.threshold = threshold

    def evaluate(self, sample: Sample) -> Verdict:
        if not sample.contexts:
            return Verdict(self.name, LEXICAL, reason="no contexts")
        found = claim_support(sample.response, [c.text for c in sample.contexts], self.threshold)
        if not found:
            return Verdict(self.name, LEXICAL, reason="no claims")
        supported = sum(c.supported for c in found)
        return Verdict(self.name, LEXICAL, score=supported / len(found), flag=supported < len(found))
