"""The sidecar's settings: one frozen dataclass, loadable from a YAML or JSON file.

Every value that becomes a label (KPIs, cohorts, fairness groups, outcome kinds,
severities) is declared here, so label values stay bounded by construction.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aivitals.catalogue import LABELS

DAY = 86400.0

#: Names that become label values: short, printable, no separators that need escaping.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:/+-]{0,63}$"
_NAME = re.compile(NAME_PATTERN)

#: Windows (label values of ``window``) in seconds.
WINDOW_SECONDS: dict[str, float] = {"1h": 3600.0, "1d": DAY, "7d": 7 * DAY, "28d": 28 * DAY, "30d": 30 * DAY}

#: Alertmanager ``severity`` label values mapped onto the declared severities.
DEFAULT_ALERT_SEVERITIES: dict[str, str] = {
    "critical": "critical",
    "page": "critical",
    "error": "high",
    "high": "high",
    "warning": "medium",
    "medium": "medium",
    "info": "low",
    "low": "low",
    "none": "low",
}


class SettingsError(ValueError):
    """A setting is wrong; the message names it and says what is allowed."""


class ThresholdsError(ValueError):
    """The thresholds file cannot be used; the message says why."""


@dataclass(frozen=True)
class Settings:
    """Everything the sidecar needs; defaults suit a single host."""

    #: SQLite file that holds every event's effect; the only state there is.
    store: Path = Path("aivitals-sidecar.db")
    #: A ``postgresql://`` URL instead of the SQLite file: several replicas share that database.
    store_url: str | None = None
    #: This replica's name among those sharing ``store_url`` (a label value); None: $POD_NAME, $HOSTNAME.
    replica_id: str | None = None
    #: How often each replica tries to become the leader: half a scrape interval keeps takeover within two.
    leader_poll_seconds: float = 5.0
    host: str = "127.0.0.1"
    port: int = 9477
    #: Thresholds file (``aivitals.config``) exported as aivitals_threshold series; None exports none.
    thresholds: Path | None = None
    #: Bearer token required on /v1 (compared in constant time); None leaves /v1 open.
    token: str | None = None
    #: Key for the keyed hashes of user keys and ids (also $AIVITALS_USER_KEY_SECRET); never kept in the store.
    user_key_secret: str | None = None
    #: File holding that key when it is not given directly; None: ``<store>.key``, generated on first start.
    user_key_secret_file: Path | None = None
    max_body_bytes: int = 8 * 1024 * 1024
    max_batch_events: int = 10_000
    #: Evaluation events evaluated (or waiting for a thread) at once; a request that does not fit is answered 503.
    evaluation_queue_size: int = 500
    #: How far in the future an event's time may lie (clock skew between hosts).
    max_future_skew_seconds: float = 300.0
    # retention: stored predictions, user keys and event ids for de-duplication
    prediction_max_count: int = 1_000_000
    prediction_max_age_seconds: float = 30 * DAY
    user_max_count: int = 1_000_000
    #: At least 28 days, or the 28d active-user window undercounts.
    user_max_age_seconds: float = 35 * DAY
    dedup_max_count: int = 1_000_000
    dedup_max_age_seconds: float = 7 * DAY
    #: Resolved incidents are forgotten after this long; open ones never are.
    incident_max_age_seconds: float = 90 * DAY
    # business configuration: every label value is declared
    eligible_users: int | None = None
    fixed_costs_usd_per_month: Mapping[str, float] = field(default_factory=dict)
    kpis: tuple[str, ...] = ()
    cohorts: tuple[str, ...] = ("treatment", "control")
    outcome_kinds: tuple[str, ...] = ()
    #: Fairness attributes and their groups, e.g. {"region": ("eu", "us")}.
    fairness: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Declared class sets of multi-class models, e.g. {"triage": ("billing", "tech")}: their labelled
    #: predictions give a confusion matrix over these classes (any other class counts as ``other``).
    classes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    severities: tuple[str, ...] = ("critical", "high", "medium", "low")
    alert_severities: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_ALERT_SEVERITIES))
    #: Severity of an alert whose ``severity`` label is missing or unmapped.
    default_alert_severity: str = "medium"
    #: Windows for ROC-AUC and log loss over stored labelled scores.
    quality_windows: tuple[str, ...] = ("1d", "7d", "30d")
    #: How long computed gauges (AUC, active users) are kept; stale ones are recomputed in the background
    #: (0: in every scrape).
    derived_refresh_seconds: float = 10.0
    access_log: bool = False

    def __post_init__(self) -> None:
        for key in ("store", "thresholds", "user_key_secret_file"):  # a str path is fine too
            value = getattr(self, key)
            if isinstance(value, str):
                object.__setattr__(self, key, Path(value))
        _check(self)


def class_name(value: object) -> str:
    """A class value as a label value: booleans as true/false, numbers as written (a YAML 2 and an event's 2 agree)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def store_name(settings: Settings) -> str:
    """The store as messages name it: the SQLite file, or the database URL without its password."""
    if settings.store_url is None:
        return str(settings.store)
    url = urlsplit(settings.store_url)
    host = url.hostname or "localhost"
    return f"{url.scheme}://{host}{f':{url.port}' if url.port else ''}{url.path}"


def _allowed(label: str) -> tuple[str, ...]:
    return LABELS[label].values


def _check_names(key: str, names: tuple[str, ...], cap: int) -> None:
    for name in names:
        if not isinstance(name, str) or not _NAME.match(name):
            raise SettingsError(f"{key}: {name!r} must match {NAME_PATTERN}")
    if len(set(names)) != len(names):
        raise SettingsError(f"{key}: a value appears twice")
    if len(names) > cap:
        raise SettingsError(f"{key}: at most {cap} values (label cardinality), got {len(names)}")


def _check_subset(key: str, values: tuple[str, ...], label: str) -> None:
    bad = [v for v in values if v not in _allowed(label)]
    if bad:
        raise SettingsError(f"{key}: {bad} not in {list(_allowed(label))}")


def _check(s: Settings) -> None:
    for key in ("prediction_max_count", "user_max_count", "dedup_max_count", "max_body_bytes", "max_batch_events",
                "evaluation_queue_size"):
        value = getattr(s, key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise SettingsError(f"{key}: a positive integer, got {value!r}")
    for key in ("prediction_max_age_seconds", "user_max_age_seconds", "dedup_max_age_seconds",
                "incident_max_age_seconds", "max_future_skew_seconds", "derived_refresh_seconds"):
        value = getattr(s, key)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
            raise SettingsError(f"{key}: a non-negative number of seconds, got {value!r}")
    if s.store_url is not None and not (isinstance(s.store_url, str)
                                        and s.store_url.startswith(("postgresql://", "postgres://"))):
        raise SettingsError("store_url: a postgresql:// URL")
    if s.replica_id is not None and (not isinstance(s.replica_id, str) or not _NAME.match(s.replica_id)):
        raise SettingsError(f"replica_id: {s.replica_id!r} must match {NAME_PATTERN}")
    if not isinstance(s.leader_poll_seconds, (int, float)) or not 0 < s.leader_poll_seconds <= 3600:
        raise SettingsError(f"leader_poll_seconds: a number of seconds in (0, 3600], got {s.leader_poll_seconds!r}")
    if not isinstance(s.port, int) or not 0 <= s.port <= 65535:
        raise SettingsError(f"port: 0..65535, got {s.port!r}")
    if s.token is not None and (not isinstance(s.token, str) or len(s.token) < 8):
        raise SettingsError("token: a string of at least 8 characters")
    if s.user_key_secret is not None and (not isinstance(s.user_key_secret, str) or len(s.user_key_secret) < 16):
        raise SettingsError("user_key_secret: a string of at least 16 characters")
    if s.eligible_users is not None and (not isinstance(s.eligible_users, int) or s.eligible_users < 0):
        raise SettingsError(f"eligible_users: a non-negative integer, got {s.eligible_users!r}")
    _check_subset("fixed_costs_usd_per_month", tuple(s.fixed_costs_usd_per_month), "bucket")
    for bucket, cost in s.fixed_costs_usd_per_month.items():
        if not isinstance(cost, (int, float)) or isinstance(cost, bool) or not math.isfinite(cost) or cost < 0:
            raise SettingsError(f"fixed_costs_usd_per_month.{bucket}: a non-negative number, got {cost!r}")
    _check_names("kpis", s.kpis, LABELS["kpi"].max_values)
    _check_names("outcome_kinds", s.outcome_kinds, LABELS["outcome_kind"].max_values)
    _check_subset("cohorts", s.cohorts, "cohort")
    _check_subset("severities", s.severities, "severity")
    if not s.severities:
        raise SettingsError("severities: declare at least one")
    _check_subset("quality_windows", s.quality_windows, "window")
    _check_names("fairness", tuple(s.fairness), LABELS["attribute"].max_values)
    total = 0
    for attribute, groups in s.fairness.items():
        _check_names(f"fairness.{attribute}", tuple(groups), LABELS["group"].max_values)
        total += len(groups)
    if total > LABELS["group"].max_values:
        raise SettingsError(f"fairness: at most {LABELS['group'].max_values} groups in all, got {total}")
    _check_classes(s.classes)
    if s.default_alert_severity not in s.severities:
        raise SettingsError(f"default_alert_severity: {s.default_alert_severity!r} is not in severities")
    for name, severity in s.alert_severities.items():
        if severity not in s.severities:
            raise SettingsError(f"alert_severities.{name}: {severity!r} is not in severities {list(s.severities)}")


def _check_classes(classes: Mapping[str, tuple[str, ...]]) -> None:
    _check_names("classes", tuple(classes), LABELS["model"].max_values)
    cap = LABELS["predicted_class"].max_values - 1  # one value is kept for `other`
    for model, names in classes.items():
        if not names:
            raise SettingsError(f"classes.{model}: declare at least one class")
        _check_names(f"classes.{model}", tuple(names), cap)
        if "other" in names:
            raise SettingsError(f"classes.{model}: 'other' is reserved for classes outside the declared set")


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}
_TUPLES = {"kpis", "cohorts", "outcome_kinds", "severities", "quality_windows"}


def settings_from_mapping(data: Mapping[str, Any], base: Settings | None = None) -> Settings:
    """Settings from a parsed config file; an unknown key is an error that names it."""
    if not isinstance(data, Mapping):
        raise SettingsError("the config file must hold a mapping of setting names to values")
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise SettingsError(f"unknown setting {unknown[0]!r}; known settings: {', '.join(sorted(_FIELDS))}")
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key in ("store", "thresholds", "user_key_secret_file"):
            if value is None and key != "store":  # null: the default (no thresholds, <store>.key)
                values[key] = None
                continue
            if not isinstance(value, str) or not value:
                raise SettingsError(f"{key}: a file path, got {value!r}")
            value = Path(value)
        elif key in _TUPLES:
            if not isinstance(value, (list, tuple)):
                raise SettingsError(f"{key}: a list, got {type(value).__name__}")
            value = tuple(value)
        elif key == "fairness":
            if not isinstance(value, Mapping) or not all(isinstance(g, (list, tuple)) for g in value.values()):
                raise SettingsError("fairness: a mapping of attribute to a list of groups")
            value = {str(a): tuple(g) for a, g in value.items()}
        elif key == "classes":
            if not isinstance(value, Mapping) or not all(isinstance(c, (list, tuple)) for c in value.values()):
                raise SettingsError("classes: a mapping of model to a list of its classes")
            value = {str(m): tuple(class_name(c) for c in cs) for m, cs in value.items()}
        elif key in ("fixed_costs_usd_per_month", "alert_severities") and not isinstance(value, Mapping):
            raise SettingsError(f"{key}: a mapping")
        values[key] = value
    try:
        return dataclasses.replace(base or Settings(), **values)
    except TypeError as exc:  # a value of the wrong type that the checks could not compare
        raise SettingsError(str(exc)) from None


def load_settings(path: str | Path, base: Settings | None = None) -> Settings:
    """Read a YAML (.yaml/.yml) or JSON config file."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml  # lazy: only config files need it

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise SettingsError(f"{path}: not valid YAML: {exc}") from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SettingsError(f"{path}: not valid JSON: {exc}") from None
    return settings_from_mapping(data or {}, base)
