"""Citations (vital #20): whether a response cites, and whether each citation names a retrieved chunk.

Markers read: ``[1]``, ``[1, 3]``, ``[doc-3]``, footnotes ``[^2]``, ``(source: handbook-7)``,
``【3†source】`` and markdown links ``[text](target)``. A citation is valid when
it names a retrieved context id, or when it is a number n with 1 <= n <= the
number of contexts (numbered citations refer to the contexts by position). A
dangling citation is a hallucination signal.

Score: ``flag`` = cited (at least one marker); ``score`` = valid citations / citations
(None when nothing is cited); citations are valid when the score is 1.
"""

from __future__ import annotations

import re

from .base import LEXICAL, Sample, Verdict

_LINK = re.compile(r"\[([^\]\n]{1,200})\]\(([^)\s]{1,500})\)")
_BRACKET = re.compile(r"\[\^?([A-Za-z0-9][\w.:#/-]{0,80}(?:\s*,\s*[A-Za-z0-9][\w.:#/-]{0,80})*)\]")
_SOURCE = re.compile(r"\((?:sources?|refs?|references?)\s*:\s*([^)\n]{1,200})\)", re.IGNORECASE)
_OPENAI = re.compile(r"【(\d+)(?::\d+)?†[^】]*】")


def _looks_like_id(token: str) -> bool:
    """Bracketed text is a citation when it is a number or an id with a digit ("doc-3"), not a word ("[sic]")."""
    return token.isdigit() or (any(c.isdigit() for c in token) and len(token) <= 80)


def citations(text: str, ids: frozenset[str] = frozenset()) -> list[str]:
    """The cited ids, in order of appearance (a link contributes its target).

    A bracketed word without a digit ("[sic]") is a citation only when it is one of ``ids``.
    """
    cited: list[str] = []
    for match in _LINK.finditer(text):
        cited.append(match.group(2))
    rest = _LINK.sub(" ", text)
    for match in _BRACKET.finditer(rest):
        parts = [p.strip() for p in match.group(1).split(",")]
        if all(_looks_like_id(p) or p in ids for p in parts):
            cited.extend(parts)
    for match in _SOURCE.finditer(rest):
        cited.extend(p.strip().strip("\"'") for p in re.split(r"[,;]", match.group(1)) if p.strip())
    cited.extend(match.group(1) for match in _OPENAI.finditer(rest))
    return cited


def valid(citation: str, ids: frozenset[str], count: int) -> bool:
    """Whether ``citation`` names one of the retrieved contexts."""
    if citation in ids:
        return True
    if citation.isdigit():
        return 1 <= int(citation) <= count
    tail = re.split(r"[/#]", citation.rstrip("/"))[-1]
    return tail in ids or any(i and i in citation for i in ids if len(i) >= 3)


class Citations:
    """Citation presence and validity against the sample's contexts."""

    name = "citation"

    def evaluate(self, sample: Sample) -> Verdict:
        ids = frozenset(c.id for c in sample.contexts)
        cited = citations(sample.response, ids)
        if not cited:
            return Verdict(self.name, LEXICAL, flag=False, reason="no citation")
        good = sum(valid(c, ids, len(sample.contexts)) for c in cited)
        return Verdict(self.name, LEXICAL, score=good / len(cited), flag=True)
