"""Metric families whose sample lines are rendered from label text cached once per series.

prometheus_client formats every sample afresh at each scrape: it sorts and
escapes the labels, then formats the value (7-11 µs a sample). aivitals' label
sets hardly change, so its collectors yield ``RenderedFamily`` objects instead:
each sample is a ``Line`` (its name and labels, rendered once into the text
before the value) and a value, which ``aivitals.exposition.generate_latest``
writes directly. They remain ordinary prometheus_client ``Metric`` objects:
``samples`` is built on first access, so prometheus_client's own
``generate_latest``, ``registry.get_sample_value`` and restricted registries
see exactly what they saw before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics.exposition import escape_label_name, escape_metric_name
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

_NEG_INF = float("-inf")

#: prometheus_client's munging of OpenMetrics types into the text format's: (name suffix, type).
_TEXT_TYPES = {"counter": ("_total", "counter"), "info": ("_info", "gauge"), "stateset": ("", "gauge"),
               "gaugehistogram": ("", "histogram"), "unknown": ("", "untyped")}
_SAMPLE_SUFFIX = {"counter": "_total", "info": "_info"}


_MEMO: dict[Any, str] = {}
_MEMO_SIZE = 4096


def go_float(value: float) -> str:
    """``floatToGoString(value)``, the same text, remembered for the values scrapes repeat.

    Most exposed values (bucket counts, memory sizes, clocks, ratios) repeat
    from scrape to scrape, so their text is kept in a small table (emptied
    when full). Zero is never kept: ``-0.0 == 0.0`` but prints differently;
    values that compare equal otherwise print the same, since
    ``floatToGoString`` formats ``float(value)``.
    """
    found = _MEMO.get(value)
    if found is None:
        found = _go(value)
        if value:
            if len(_MEMO) >= _MEMO_SIZE:
                _MEMO.clear()
            _MEMO[value] = found
    return found


def _go(value: float) -> str:
    """``floatToGoString(value)`` with quick paths: small integers print as ``n.0``, floats below 1e6 as repr.

    prometheus_client switches to exponent form at a 7-digit integer part, so
    below 1e6 the text is Python's repr; NaN and the infinities go through it.
    """
    kind = type(value)
    if kind is int:
        if -1_000_000_000_000_000 < value < 1_000_000:
            return f"{value}.0"
    elif kind is float and _NEG_INF < value < 1e6:
        return repr(value)
    return floatToGoString(value)


def escape_value(value: str) -> str:
    """A label value as the text format quotes it: backslash, newline and double quote escaped."""
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def escape_help(text: str) -> str:
    """Help text as the text format writes it: backslash and newline escaped."""
    return text.replace("\\", r"\\").replace("\n", r"\n")


class Line:
    """One sample's name and labels, with the text before its value rendered once.

    ``labels`` keeps the insertion order given (the catalogue's); the text
    sorts them by name, as prometheus_client does. ``last`` is the last
    (value, whole line) written: most values repeat from scrape to scrape.
    """

    __slots__ = ("labels", "last", "name", "prefix")

    def __init__(self, name: str, labels: dict[str, str]) -> None:
        self.name = name
        self.labels = labels
        text = ",".join(f'{escape_label_name(k)}="{escape_value(v)}"' for k, v in sorted(labels.items()))
        self.prefix = f"{escape_metric_name(name)}{{{text}}} " if text else f"{escape_metric_name(name)} "
        self.last: tuple[Any, str] = (None, "")

    def text(self, value: Any) -> str:
        """The whole line for ``value``: the last one written when the value is the same.

        Equal values print the same (``floatToGoString`` formats ``float(value)``),
        except zero's sign, so a zero is reused only when it is the very object.
        Replacing ``last`` is one assignment, so concurrent scrapes stay consistent.
        """
        last = self.last
        if last[0] is value or (value and last[0] == value):
            return last[1]
        text = f"{self.prefix}{go_float(value)}\n"
        self.last = (value, text)
        return text


class HistLines:
    """The lines of one histogram series: a bucket line per bound (``+Inf`` last), ``_count`` and ``_sum``."""

    __slots__ = ("buckets", "count", "sum")

    def __init__(self, name: str, labels: dict[str, str], les: Sequence[str]) -> None:
        self.buckets = tuple(Line(f"{name}_bucket", {**labels, "le": le}) for le in les)
        self.count = Line(f"{name}_count", labels)
        self.sum = Line(f"{name}_sum", labels)


class FamilySpec:
    """A family's name, type, help and unit, taken from a prometheus_client family, with its header rendered."""

    __slots__ = ("documentation", "header", "label_names", "name", "type", "unit")

    def __init__(self, prototype: Metric, label_names: Sequence[str] = ()) -> None:
        self.name = prototype.name
        self.documentation = prototype.documentation
        self.type = prototype.type
        self.unit = prototype.unit
        self.label_names = tuple(label_names)
        suffix, text_type = _TEXT_TYPES.get(self.type, ("", self.type))
        exposed = escape_metric_name(self.name + suffix)
        self.header = f"# HELP {exposed} {escape_help(self.documentation)}\n# TYPE {exposed} {text_type}\n"

    def sample_name(self) -> str:
        """The name of this family's plain samples (``_total`` for counters, ``_info`` for info)."""
        return self.name + _SAMPLE_SUFFIX.get(self.type, "")

    def line(self, values: Sequence[str], extra: dict[str, str] | None = None) -> Line:
        """The line of a plain sample whose label values are ``values``, in ``label_names`` order."""
        labels = dict(zip(self.label_names, values, strict=True))
        if extra:
            labels.update(extra)
        return Line(self.sample_name(), labels)

    def hist_lines(self, values: Sequence[str], les: Sequence[str]) -> HistLines:
        """The lines of a histogram series whose label values are ``values``."""
        return HistLines(self.name, dict(zip(self.label_names, values, strict=True)), les)


Row = tuple[Line, Any]
HistRow = tuple[HistLines, list[int], float]


class RenderedFamily(Metric):
    """A metric family of pre-rendered lines and their values; ``samples`` is built only when asked for.

    Plain samples are ``rows`` of (Line, value); histogram series are
    ``hists`` of (HistLines, per-bucket counts, sum), the counts not
    cumulative and already copied out of the live aggregate. Assigning or
    mutating ``samples`` is honoured: the fast writer then formats the family
    generically.
    """

    def __init__(self, spec: FamilySpec, rows: list[Row] | None = None) -> None:
        # Metric.__init__ validates the name each time; the spec's prototype was validated once.
        self.name = spec.name
        self.documentation = spec.documentation
        self.type = spec.type
        self.unit = spec.unit
        self.spec = spec
        self.rows: list[Row] = rows if rows is not None else []
        self.hists: list[HistRow] = []
        self._samples: list[Sample] | None = None

    @property
    def samples(self) -> list[Sample]:
        if self._samples is None:
            self._samples = self._build_samples()
        return self._samples

    @samples.setter
    def samples(self, value: list[Sample]) -> None:
        self._samples = value

    @property
    def materialized(self) -> bool:
        """Whether ``samples`` was built or assigned, so that it, not the rows, is the truth."""
        return self._samples is not None

    def _build_samples(self) -> list[Sample]:
        made = [Sample(line.name, dict(line.labels), float(value)) for line, value in self.rows]
        for lines, counts, total in self.hists:
            cumulative = 0
            for line, count in zip(lines.buckets, counts, strict=True):
                cumulative += count
                made.append(Sample(line.name, dict(line.labels), cumulative))
            made.append(Sample(lines.count.name, dict(lines.count.labels), cumulative))
            made.append(Sample(lines.sum.name, dict(lines.sum.labels), total))
        return made

    def render(self, out: list[str]) -> None:
        """Append the family's text (header, then one line per sample) to ``out``."""
        append = out.append
        append(self.spec.header)
        for line, value in self.rows:
            last = line.last  # Line.text, inlined: this loop is the exposition's hot path
            append(last[1] if last[0] is value or (value and last[0] == value) else line.text(value))
        for lines, counts, total in self.hists:
            cumulative = 0
            for line, count in zip(lines.buckets, counts, strict=True):
                cumulative += count
                last = line.last
                append(last[1] if last[0] is cumulative or (cumulative and last[0] == cumulative)
                       else line.text(cumulative))
            append(lines.count.text(cumulative))
            append(lines.sum.text(total))

    def _restricted_metric(self, names: Any) -> Metric | None:
        """A copy holding only samples named in ``names`` (prometheus_client's ``name[]`` filter)."""
        if self.hists or self._samples is not None:
            restricted: Metric | None = super()._restricted_metric(names)
            return restricted
        rows = [row for row in self.rows if row[0].name in names]
        return RenderedFamily(self.spec, rows) if rows else None
