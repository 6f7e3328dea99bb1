"""Citation presence and validity on hand-labelled responses, including dangling citations."""

from __future__ import annotations

import pytest

from aivitals.evaluators.base import Context, Sample
from aivitals.evaluators.citations import Citations, citations

CONTEXTS = (Context("doc-1", "Refunds take two years."), Context("doc-2", "Shipping is free."),
            Context("kb/returns.md", "Returns need a receipt."), Context("policy", "Be kind."))

# (response, cited, citations valid (None when not cited))
CASES: list[tuple[str, bool, bool | None]] = [
    ("Refunds take two years [1].", True, True),
    ("Refunds take two years [1][2].", True, True),
    ("Refunds take two years [1, 3].", True, True),
    ("Refunds take two years [5].", True, False),                       # only four contexts
    ("Be kind [policy].", True, True),                                  # a word that is a context id
    ("Refunds take two years [doc-1].", True, True),
    ("Refunds take two years [doc-7].", True, False),                   # dangling
    ("Shipping is free.[^2]", True, True),
    ("Shipping is free (source: doc-2).", True, True),
    ("Shipping is free (Source: doc-9).", True, False),
    ("See the [returns guide](kb/returns.md).", True, True),
    ("See the [returns guide](https://wiki.example.com/kb/returns.md).", True, True),
    ("See the [pricing page](https://example.com/pricing).", True, False),
    ("Shipping is free 【2†source】.", True, True),
    ("Refunds take two years [doc-1] and shipping is free [doc-5].", True, False),
    ("Refunds take two years.", False, None),
    ("The array is a[i] and b[j].", False, None),                       # indexing, not citations
    ("Use [x] to tick the box [sic].", False, None),
    ("It costs $5 (about 4 euros).", False, None),
    ("Call us (see below) for help.", False, None),                     # "(see ...)" is not a citation
    ("The answer is in section 3.", False, None),
    ("Returns need a receipt [kb/returns.md].", True, True),
]


@pytest.mark.parametrize(("response", "cited", "valid"), CASES)
def test_presence_and_validity(response: str, cited: bool, valid: bool | None) -> None:
    verdict = Citations().evaluate(Sample(response, contexts=CONTEXTS))
    assert verdict.flag is cited
    assert (None if verdict.score is None else verdict.score == 1.0) == valid


def test_at_least_95_percent_of_responses_are_read_right() -> None:
    right = 0
    for response, cited, valid in CASES:
        verdict = Citations().evaluate(Sample(response, contexts=CONTEXTS))
        right += verdict.flag is cited and (None if verdict.score is None else verdict.score == 1.0) == valid
    assert right / len(CASES) >= 0.95


def test_the_score_is_the_share_of_valid_citations() -> None:
    verdict = Citations().evaluate(Sample("a [1] b [doc-2] c [doc-9] d [7].", contexts=CONTEXTS))
    assert verdict.score == pytest.approx(0.5)


def test_a_citation_without_any_context_is_dangling() -> None:
    verdict = Citations().evaluate(Sample("Refunds take two years [1]."))
    assert verdict.flag is True and verdict.score == 0.0


def test_citations_lists_ids_in_order() -> None:
    assert citations("x [2] y [doc-1] z [g](kb/a.md)") == ["kb/a.md", "2", "doc-1"]
