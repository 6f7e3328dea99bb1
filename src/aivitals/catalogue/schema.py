"""Typed, frozen records that make up the catalogue.

Everything aivitals emits or derives is described here once: the metrics the
SDK and the sidecar record, the labels they may carry, and the vitals derived
from them with their thresholds, queries and dashboard placement.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class MetricType(str, enum.Enum):
    COUNTER = "counter"
    GAUGE = "gauge"
    HISTOGRAM = "histogram"
    INFO = "info"


class Unit(str, enum.Enum):
    """Base units; the value is the suffix a metric name must carry ("" for none)."""

    SECONDS = "seconds"
    BYTES = "bytes"
    USD = "usd"
    RATIO = "ratio"
    TOKENS = "tokens"
    JOULES = "joules"
    WATTS = "watts"
    CELSIUS = "celsius"
    HERTZ = "hertz"
    TIMESTAMP = "timestamp_seconds"
    NONE = ""


class Area(str, enum.Enum):
    """The catalogue's groups, after the seed article."""

    ENGINEERING = "engineering"
    QUALITY = "quality"
    BUSINESS = "business"
    HUMAN = "human"
    INFRA = "infra"
    SDK = "sdk"


class Dashboard(str, enum.Enum):
    """Dashboards that show vitals; the value is the stable UID suffix."""

    EXECUTIVE = "executive"
    ENGINEERING = "engineering"
    QUALITY = "quality"
    BUSINESS = "business"
    OPERATIONS = "operations"
    GPU_HOST = "gpu-host"


class Source(str, enum.Enum):
    """Who records a metric."""

    SDK = "sdk"
    SIDECAR = "sidecar"
    #: The app records it with the SDK when it knows at call time, the sidecar when it learns later.
    SDK_OR_SIDECAR = "sdk or sidecar"
    COLLECTOR = "collector"
    CONFIG = "config"


class Comparison(str, enum.Enum):
    """How a threshold is crossed: the value is the PromQL operator that fires."""

    ABOVE = ">"
    BELOW = "<"
    EQUAL = "=="

    def at_least_as_bad(self, critical: float, warning: float) -> bool:
        """Whether ``critical`` lies at or beyond ``warning`` in the direction the alert fires."""
        return critical >= warning if self is Comparison.ABOVE else critical <= warning


class Severity(str, enum.Enum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Label:
    """A label on the allow-list.

    ``values`` is the closed set of accepted values; an empty set means values
    are open but bounded by ``max_values`` distinct values per process, beyond
    which they fold into ``other``.
    """

    name: str
    description: str
    values: tuple[str, ...] = ()
    max_values: int = 0
    example: str = ""

    @property
    def closed(self) -> bool:
        return bool(self.values)


class Replicas(str, enum.Enum):
    """How a sidecar series behaves when several sidecar replicas share one store (PostgreSQL).

    The generated rules aggregate every sidecar series with ``sum by`` or ``max by``
    over labels that leave ``replica`` out, so one replica or many give the same answer.
    """

    #: Each replica exports what it committed, labelled ``replica``; the sum over replicas is the total.
    EACH = "each replica"
    #: A global figure (distinct users, AUC over joined labels, probe runs, configured values): one replica
    #: at a time exports it, the leader chosen by a PostgreSQL advisory lock.
    LEADER = "leader only"
    #: A gauge each replica moves (open incidents): the leader exports the sum over replicas.
    LEADER_SUM = "leader, summed over replicas"
    #: A timestamp each replica raises (freshness): the leader exports the latest of any replica.
    LEADER_MAX = "leader, latest of replicas"


@dataclass(frozen=True)
class Metric:
    """A series family that aivitals records (never derived)."""

    name: str
    type: MetricType
    unit: Unit
    help: str
    labels: tuple[str, ...]
    source: Source
    buckets: tuple[float, ...] = ()
    #: For a label with a closed set, the subset this metric uses (if narrower).
    label_values: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: For what the sidecar exports: how its replicas share the series (required for sidecar sources).
    replicas: Replicas | None = None

    @property
    def exposed_names(self) -> tuple[str, ...]:
        """Sample names as they appear in the exposition."""
        if self.type is MetricType.HISTOGRAM:
            return (f"{self.name}_bucket", f"{self.name}_sum", f"{self.name}_count")
        if self.type is MetricType.INFO:
            return (f"{self.name}_info",)
        return (self.name,)

    def values_of(self, label: str) -> tuple[str, ...] | None:
        """The narrowed value set of ``label`` on this metric, if declared."""
        for name, values in self.label_values:
            if name == label:
                return values
        return None


@dataclass(frozen=True)
class Threshold:
    """A default threshold: where a vital turns from healthy to not.

    ``config_key`` names the key in the thresholds config file that overrides
    the default per service or model without regenerating rules.
    """

    comparison: Comparison
    warning: float | None
    critical: float | None
    reason: str
    config_key: str
    #: How long the condition must hold before an alert fires.
    for_: str = "15m"
    #: The vital's value range; the config loader rejects values outside it.
    minimum: float | None = 0.0
    maximum: float | None = None
    #: The recorded series the threshold is checked against, when not the vital itself
    #: (throughput is judged as a share of configured capacity).
    subject: str = ""
    #: An extra PromQL condition joined with ``and`` (the KPI delta alerts only with confidence).
    condition: str = ""
    #: The labels the condition is joined on, when it carries fewer than the vital (default: all of them).
    condition_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class Tile:
    """A place on the executive dashboard."""

    position: int
    title: str
    question: str


@dataclass(frozen=True)
class Vital:
    """A number that tells whether an AI system works, derived from metrics.

    ``query`` is the PromQL that derives the vital; ``{selector}`` inside it is
    replaced with the dashboard or rule's label filters and ``{window}`` with
    the range. ``metrics`` names the recorded series it reads.
    """

    id: str
    number: int | None
    title: str
    area: Area
    description: str
    unit: Unit
    metrics: tuple[str, ...]
    query: str
    dashboard: Dashboard
    thresholds: tuple[Threshold, ...] = ()
    tile: Tile | None = None
    #: Why PromQL cannot derive it, when the value is computed in-process.
    computed_in_process: str = ""
    #: Which later work fills it, when nothing records it yet.
    planned: str = ""
    grafana_unit: str = "short"
    extra: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    #: The recording rule that computes the vital once for alerts and panels
    #: (``level:metric:operations``; ``WINDOW`` in it becomes each of ``windows``).
    #: Empty when the query is already a plain selector of a recorded series.
    record: str = ""
    #: Ranges the vital is recorded at; the first is the one alerts and tiles use.
    windows: tuple[str, ...] = ()
    #: What a manager should ask the team when this vital moved (the monthly review prints them).
    questions: tuple[str, ...] = ()
    #: The row of ``dashboard`` its panel sits in (one its ``Board`` declares) and its place in that row.
    row: str = ""
    order: int = 0
    #: The runbook's "what to do first" when one of its alerts fires: the move that most often helps.
    first_step: str = ""


@dataclass(frozen=True)
class Derived:
    """A series recorded beside a vital (p50 beside p95, F1 beside accuracy).

    Not a vital of its own, but computed once in a recording rule so panels and
    alerts reuse it. ``query`` and ``record`` use the same tokens as a vital's.
    """

    record: str
    query: str
    description: str
    unit: Unit
    windows: tuple[str, ...] = ()
    grafana_unit: str = "short"
    #: Where a panel shows it (dashboard, row, place in the row); no dashboard for series only rules read.
    dashboard: Dashboard | None = None
    row: str = ""
    order: int = 0


@dataclass(frozen=True)
class Record:
    """A recording rule written out whole, with no ``SEL`` or ``WINDOW`` token: the drift statistics' chain.

    ``keeps`` names the labels its series keep, where a query that reads it needs them.
    """

    record: str
    expr: str
    keeps: tuple[str, ...] = ()


@dataclass(frozen=True)
class Board:
    """A dashboard's title, what it is for, and its rows in order (panels name their row)."""

    dashboard: Dashboard
    title: str
    description: str
    rows: tuple[str, ...]


@dataclass(frozen=True)
class Total:
    """A number of the executive dashboard's "This period" row, over the dashboard's time range.

    Either ``query`` (the vitals' tokens; ``WINDOW`` is the period, ``filters`` the labels the
    dashboard's filters may match) or ``vital``, whose query is read over the period and whose
    worst value is shown, with ``description`` added to the vital's own.
    """

    title: str
    description: str
    #: The link under the number: its title and the dashboard it opens.
    link: str
    board: Dashboard
    query: str = ""
    filters: tuple[str, ...] = ()
    grafana_unit: str = "short"
    vital: str = ""


@dataclass(frozen=True)
class TargetAlert:
    """An alert on the scrape targets themselves rather than on a vital (area infra, severity warning)."""

    name: str
    expr: str
    for_: str
    summary: str
    description: str
    #: What it means and the queries that confirm it, for the runbook.
    meaning: str
    confirm: tuple[str, ...]
    first_step: str


@dataclass(frozen=True)
class Slo:
    """A service-level objective alerted on by multi-window multi-burn-rate rules.

    ``errors`` is the record of the bad-event ratio (``WINDOW`` in it becomes
    each burn-rate window); the objective is the share of good events.
    """

    id: str
    title: str
    description: str
    objective: float
    errors: str
    area: Area
    #: The period the error budget covers.
    period: str = "30d"
    #: The runbook's "what to do first" when its burn-rate alert fires.
    first_step: str = ""


@dataclass(frozen=True)
class BurnWindow:
    """One long/short window pair of a multi-burn-rate alert (the SRE workbook's table).

    ``budget_consumed`` is the share of the period's error budget that, spent in
    ``long``, pages or opens a ticket; the burn-rate factor is derived from it.
    """

    long: str
    short: str
    budget_consumed: float
    severity: Severity


class Section(str, enum.Enum):
    """The monthly business review's sections, in the order of the seed article's MBR."""

    PERFORMANCE = "performance"
    OPERATIONAL = "operational"
    COST = "cost"
    HUMAN = "human"


class Format(str, enum.Enum):
    """How a figure is written for people."""

    COUNT = "count"
    USD = "usd"
    RATIO = "ratio"
    SECONDS = "seconds"
    NUMBER = "number"
    PER_SECOND = "per_second"
    #: A score in -1..1 written as signed points x100 (NPS).
    POINTS = "points"


@dataclass(frozen=True)
class Figure:
    """One number of the monthly business review, read from raw series over a period.

    ``query`` uses the vitals' tokens (``SEL``, ``WINDOW``, ``WINDOW_SECONDS``,
    with ``WINDOW`` the whole period) and yields one series, or none when its
    series are absent. A figure with no query is derived from others: the sum
    of ``sum_of`` (the parts present), or ``ratio_of`` numerator over
    denominator. ``vital`` lends its questions, and its thresholds when
    ``judged``.
    """

    name: str
    title: str
    section: Section
    format: Format
    description: str
    query: str = ""
    metrics: tuple[str, ...] = ()
    sum_of: tuple[str, ...] = ()
    ratio_of: tuple[str, str] | None = None
    vital: str = ""
    judged: bool = True
    #: Plotted per day in the page's trend charts.
    daily: bool = False
