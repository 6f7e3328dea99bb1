"""Words, numbers and sentences, normalised so lexical evaluators compare like with like.

"two years" and "2 years", "refunds" and "refunded", "$1,200" and "1200" must
compare equal, or a faithful paraphrase reads as an unsupported claim. Stemming
here is a deliberately light suffix stripper (no model, no download), applied
the same way to responses and contexts so both sides meet on the same stem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

_STOPWORD_TEXT = """
a about above after again against all also am an and any are as at be because been before being below between
both but by can could did do does doing down during each few for from further had has have having he her here
hers herself him himself his how i if in into is it its itself just let me more most my myself no nor not now of
off on once only or other our ours ourselves out over own same she should so some such than that the their theirs
them themselves then there these they this those through to too under until up very was we were what when where
which while who whom why will with would you your yours yourself yourselves yes may might must shall ll ve re s t d
m don doesn didn isn aren wasn weren won wouldn shouldn couldn can't cannot per via get gets got getting
ask asks asked let want need like please sure able just well really actually also
"""
#: Function words carry no claim; they are ignored when measuring support.
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "thousand": 1000, "dozen": 12,
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "twice": 2, "once": 1, "half": 0.5,
}
_SCALES = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9, "b": 1e9}

#: A token: a number (with thousands separators, decimals, ordinal suffix) or a word.
_TOKEN = re.compile(r"\d[\d,]*(?:\.\d+)?(?:st|nd|rd|th)?|[A-Za-z][A-Za-z'’-]*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])|\n+")
_ABBREVIATIONS = re.compile(r"\b(?:e\.g|i\.e|etc|vs|Mr|Mrs|Ms|Dr|St|No|approx|Inc|Ltd|Co)\.$")
_SUFFIXES = ("ational", "ations", "ation", "nesses", "ness", "ments", "ment", "ingly", "edly", "ings", "ing",
             "ies", "ied", "ers", "er", "ed", "es", "ly", "s")


@lru_cache(maxsize=16384)
def stem(word: str) -> str:
    """A light stem: lower case, common inflectional and derivational suffixes removed (memoised per word)."""
    word = word.lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) <= 3:
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            if suffix in ("ies", "ied"):
                return base + "y"
            if len(base) > 3 and base[-1] == base[-2] and base[-1] not in "aeiouls":
                base = base[:-1]  # "stopped" -> "stop"
            return base.rstrip("e") if len(base) > 4 else base
    return word.rstrip("e") if len(word) > 4 else word


def _number(token: str) -> str | None:
    """The canonical text of a numeric token, or None when it is not a number."""
    if not token[0].isdigit():
        value = _NUMBER_WORDS.get(token.lower())
        return None if value is None else _canonical(value)
    low = token.lower()
    digits = re.sub(r"(st|nd|rd|th)$", "", low).replace(",", "")
    try:
        return _canonical(float(digits))
    except ValueError:
        return None


def _canonical(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@dataclass(frozen=True)
class Terms:
    """What a piece of text asserts, in comparable form.

    ``words``: stems of content words; ``pairs``: adjacent content stems;
    ``numbers``: canonical numbers (scales applied: "1.2 million" -> 1200000);
    ``names``: capitalised words not at a sentence start (named entities, months).
    """

    words: frozenset[str]
    pairs: frozenset[tuple[str, str]]
    numbers: frozenset[str]
    names: frozenset[str]


def terms(text: str) -> Terms:
    """Split ``text`` into the terms support is measured on."""
    words: list[str] = []
    numbers: set[str] = set()
    names: set[str] = set()
    tokens = _TOKEN.findall(text)
    for index, token in enumerate(tokens):
        number = _number(token)
        if number is not None:
            scale = _SCALES.get(tokens[index + 1].lower()) if index + 1 < len(tokens) else None
            numbers.add(_canonical(float(number) * scale) if scale else number)
            continue
        low = token.lower()
        if low in STOPWORDS or len(low) < 2:
            continue
        if token[0].isupper() and index > 0:
            names.add(stem(token))
        words.append(stem(token))
    pairs = frozenset(pairwise(words))
    return Terms(frozenset(words), pairs, frozenset(numbers), frozenset(names))


def sentences(text: str) -> list[str]:
    """Split text into sentences, keeping abbreviations ("e.g.", "Dr.") inside theirs."""
    parts: list[str] = []
    for piece in _SENTENCE_END.split(text):
        piece = piece.strip()
        if not piece:
            continue
        if parts and _ABBREVIATIONS.search(parts[-1]):
            parts[-1] = f"{parts[-1]} {piece}"
        else:
            parts.append(piece)
    return parts
