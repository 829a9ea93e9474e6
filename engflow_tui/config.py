"""Configuration: TOML file -> frozen dataclasses, plus target resolution from CLI and environment.

The app receives a built :class:`Config`; it never reads files itself. Every error names the
file and the key. Secrets are only ever referenced by environment-variable name.
Must not import Textual.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .dsn import describe_env_dsn, dsn_has_password, mask_dsn, os_user, validate_dsn
from .durations import MAX_DURATION, parse_bounded
from .errors import ConfigError


@dataclass(frozen=True, slots=True)
class ConsoleConfig:
    refresh_interval: float = 2.0
    """Seconds between two activity polls ("2s")."""
    read_only: bool = False
    """Refuse every action that changes the database."""
    operator: str = field(default_factory=lambda: os_user())
    """Who signs checklists and actions; default: the OS user."""
    audit_log: str = field(default_factory=lambda: f"{state_home()}/engflow-tui/audit.jsonl")
    """Where confirmed actions, refusals and failures are appended (JSON lines)."""
    state_dir: str = field(default_factory=lambda: f"{state_home()}/engflow-tui")
    """Where the alert history (one file per target) and the checklist runs are kept."""
    default_target: str | None = None
    """The target to open when the file names several."""
    connect_timeout: float = 5.0
    """Give up a connection attempt after this long."""
    slow_queries_interval: float = 30.0
    """Seconds between two pg_stat_statements reads (they are expensive on busy servers)."""
    catalog_interval: float = 30.0
    """Seconds between two RLS / policy catalogue scans; on PostgreSQL 15+ the scan follows DDL
    instead, at most every third of this and at least every four times it."""
    size_interval: float = 60.0
    """Seconds between two database-size reads (cost grows with the number of relations)."""
    http_interval: float = 10.0
    """Seconds between two HTTP probes (REST API, app health) and host-metrics scrapes."""
    http_timeout: float = 5.0
    """An HTTP probe or scrape without its whole answer (connect, headers, body) after this long
    is a timeout."""
    max_sessions: int = 50
    """At most this many sessions are shipped to the session table, worst first, after the
    panel's filter (applied by the server); the counts are always complete."""
    slow_queries_limit: int = 20
    """Top N statements shown in the slow-queries panel."""


@dataclass(frozen=True, slots=True)
class TargetConfig:
    name: str
    """The target's name: the key under [targets]."""
    dsn: str | None = None
    """libpq URI or key=value string; None means PG* environment variables."""
    password_env: str | None = None
    """Name of the environment variable that holds the password."""
    action_dsn: str | None = None
    """Where actions connect (a role that may signal backends and alter tables); default: dsn."""
    action_password_env: str | None = None
    """Name of the environment variable that holds the action role's password; default: password_env."""
    exposed_schemas: tuple[str, ...] = ("public",)
    """Schemas the REST API serves: RLS matters there."""
    rest_url: str | None = None
    """Base URL of the REST API (…/rest/v1)."""
    rest_apikey_env: str | None = None
    """Name of the environment variable that holds the REST API key."""
    app_health_url: str | None = None
    """The application's /health endpoint."""
    read_only: bool = False
    """Refuse actions on this target, whatever [console] says."""
    rest_probe_path: str = "clientes?select=count"
    """What the REST probe GETs under rest_url (runbook: a count on clientes)."""
    metrics_url: str | None = None
    """A Prometheus exposition with node_* metrics (node_exporter or the provider's endpoint)."""
    metrics_user: str | None = None
    """Basic-auth user for metrics_url."""
    metrics_password_env: str | None = None
    """Name of the environment variable that holds the metrics_url password."""
    metrics_mountpoint: str = "/"
    """The filesystem whose usage the Disk Usage alert watches."""
    active_users_sql: str = (
        "SELECT count(*) FROM auth.users WHERE last_sign_in_at > now() - interval '24 hours'"
    )
    """A count of active users (User Growth alert); runs read-only with the statement timeout."""
    app_url: str | None = None
    """The application's base URL (the emergency fallback is POSTed to {app_url}/api/emergency/enable-fallback)."""
    emergency_token_env: str | None = None
    """Name of the environment variable that holds the emergency bearer token."""

    @property
    def display_dsn(self) -> str:
        if self.dsn is None:
            return describe_env_dsn()
        return mask_dsn(self.dsn)

    def password(self) -> str | None:
        if self.password_env:
            return os.environ.get(self.password_env)
        return None

    def action_password(self) -> str | None:
        if self.action_password_env:
            return os.environ.get(self.action_password_env)
        return self.password() if self.action_dsn is None else None


@dataclass(frozen=True, slots=True)
class Thresholds:
    idle_in_transaction: float = 1800.0
    """Sessions idle in transaction longer than this (seconds) are flagged ("30m")."""
    slow_query_ms: float = 100.0
    """Statements whose mean execution time exceeds this are slow."""
    connections_warning_pct: float = 80.0
    """Connections in use, % of max_connections, that warn."""
    connections_critical_pct: float = 95.0
    """Connections in use, % of max_connections, that are critical."""
    cache_hit_warning_pct: float = 80.0
    """Cache hit rate below this warns (runbook: > 80 %)."""
    min_transactions: int = 100
    """The database error rate (High Error Rate) is computed only over a window with at least
    this many transactions: a quiet night's 1 rollback in 10 does not page."""
    min_probes: int = 10
    """The REST API / app error rate needs at least this many probes in its window."""
    min_cache_blocks: int = 1000
    """The cache hit rate (Low Cache Hit Rate) needs at least this many block reads in its
    window."""


@dataclass(frozen=True, slots=True)
class ActionsConfig:
    lock_timeout: float = 3.0
    """DDL waits at most this long for a lock, then fails instead of queueing every query."""
    statement_timeout: float = 30.0
    """Any action statement is cancelled after this long."""
    analyze_timeout: float = 600.0
    """ANALYZE (whole database or one table) is cancelled after this long."""
    http_timeout: float = 10.0
    """The emergency fallback call and incident message posts give up after this long (answer
    included)."""


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    kind: str
    """slack | json | alertmanager"""
    url_env: str
    """Name of the environment variable that holds the URL (it may embed a secret)."""
    min_severity: str = "warning"
    """Send alerts of this severity and worse (critical | warning | info)."""


@dataclass(frozen=True, slots=True)
class NotificationsConfig:
    bell: bool = True
    """Ring the terminal bell when an alert fires (and on repeats)."""
    repeat_interval: float = 1800.0
    """Re-notify a firing, unacknowledged alert this often."""
    webhooks: tuple[WebhookConfig, ...] = ()
    """[[notifications.webhooks]] kind, url_env, min_severity."""


@dataclass(frozen=True, slots=True)
class EscalationLevel:
    name: str
    """The level's name, as the matrix names it ("Level 2")."""
    title: str = ""
    """What the level is ("Technical Team")."""
    contact: str = ""
    """How to reach it (an address, a rota, a portal)."""
    availability: str = ""
    """When it answers ("24/7", "08:00-18:00 UTC-3")."""
    response_time: str = ""
    """How fast it answers ("< 30 min")."""
    escalation: str = ""
    """When to go to this level ("For Severity 1-2 incidents")."""


@dataclass(frozen=True, slots=True)
class EscalationRule:
    severity: int
    """1 (critical) to 4 (low)."""
    name: str
    """"Critical", "High", "Medium", "Low"."""
    initial_response: float
    """Acknowledge the incident within this (seconds)."""
    escalate_after: float | None
    """Escalate after this (seconds); None = at the start of the next business day."""
    escalate_to: tuple[str, ...]
    """Level names to escalate to."""


def _runbook_levels() -> tuple[EscalationLevel, ...]:
    return (
        EscalationLevel(
            "Level 1",
            "Application Support",
            "[support-email]",
            "08:00-18:00 UTC-3 (business hours)",
            "< 15 min (business hours)",
            "If no response in 30 min",
        ),
        EscalationLevel(
            "Level 2",
            "Technical Team",
            "[tech-team-email]",
            "On-call rotation (24/7)",
            "< 30 min (24/7)",
            "For Severity 1-2 incidents",
        ),
        EscalationLevel(
            "Level 3",
            "Infrastructure (Supabase)",
            "Supabase Support Portal",
            "24/7",
            "As per SLA",
            "For platform-level issues",
        ),
    )


def _runbook_matrix() -> tuple[EscalationRule, ...]:
    return (
        EscalationRule(1, "Critical", 300.0, 900.0, ("Level 2", "Level 3")),
        EscalationRule(2, "High", 900.0, 1800.0, ("Level 2",)),
        EscalationRule(3, "Medium", 1800.0, 7200.0, ("Level 2",)),
        EscalationRule(4, "Low", 14400.0, None, ("Level 1",)),
    )


@dataclass(frozen=True, slots=True)
class EscalationConfig:
    levels: tuple[EscalationLevel, ...] = field(default_factory=_runbook_levels)
    """[[escalation.levels]] name, title, contact, availability, response_time, escalation."""
    matrix: tuple[EscalationRule, ...] = field(default_factory=_runbook_matrix)
    """[[escalation.matrix]] severity, name, initial_response, escalate_after, escalate_to."""
    business_day_start: str = "08:00"
    """When a business day starts ("next business day" escalations fall due then)."""
    business_utc_offset: float = -3.0
    """The business hours' offset from UTC in hours (runbook: UTC-3)."""

    def rule(self, severity: int) -> EscalationRule:
        return next(r for r in self.matrix if r.severity == severity)


def _runbook_update_cadence() -> Mapping[int, float]:
    return {1: 900.0, 2: 1800.0, 3: 3600.0, 4: 14400.0}


@dataclass(frozen=True, slots=True)
class IncidentsConfig:
    status_update_every: Mapping[int, float] = field(default_factory=_runbook_update_cadence)
    """Remind the operator to send a status update this often, per severity ({1 = "15m", ...})."""
    state_file: str | None = None
    """Where the open incident is saved on every change (a restarted console resumes it).
    Default: one file per target, ``<console.state_dir>/incidents/<target>.json`` — an incident
    belongs to its target. ``{target}`` in the path is replaced by the target's name; a path
    without it is one incident shared by every target, on purpose."""
    reports_dir: str | None = None
    """Where exported reports, saved messages and resolved incidents go (default:
    ``<console.state_dir>/incidents``)."""
    system: str = "EngFlow Production"
    """The system named in the communication templates."""
    status_page_url: str = "[status-page-url]"
    """The status page named in the user notification."""
    webhook_url_env: str | None = None
    """Env var holding the Slack-compatible webhook for incident messages; default: the first
    [[notifications.webhooks]] of kind slack."""
    close_resolved_after: float = 600.0
    """A resolved incident's bar stays (green) this long on every screen, then closes by itself
    (Close incident closes it sooner)."""


@dataclass(frozen=True, slots=True)
class HistoryConfig:
    enabled: bool = True
    """Keep a local metrics store (one SQLite file per target under console.state_dir)."""
    sample_interval: float = 60.0
    """One sample of the snapshot figures this often (connections, cache, transactions, writes)."""
    size_interval: float = 600.0
    """Database and table sizes, per-table write counters and statement totals: sampled this often."""
    raw_retention: float = 86400.0
    """Samples are kept as taken for this long, then only as hourly aggregates."""
    hourly_retention: float = 90 * 86400.0
    """Hourly aggregates are kept this long, then only as daily ones."""
    daily_retention: float = 730 * 86400.0
    """Daily aggregates are kept this long."""
    max_size_mb: float = 200.0
    """Size cap of one store file: the oldest data goes first when it is exceeded."""


@dataclass(frozen=True, slots=True)
class CapacityConfig:
    storage_limit: float | None = None
    """The database's storage limit in bytes ("8GB", "500MB"): Trends projects when it is reached."""


@dataclass(frozen=True, slots=True)
class DiagnoseConfig:
    exclude: tuple[str, ...] = ()
    """Findings to leave out: a check id ("maintenance.unused_indexes") or check id:key
    ("security.function_search_path:public.my_fn"); the key is shown with each finding."""
    statement_timeout: float = 10.0
    """Each diagnostic query is cancelled after this long (the check then says so)."""
    orphan_count_timeout: float = 5.0
    """Counting the orphans of one foreign key stops after this long; the report says the count was cut short."""
    orphan_total_timeout: float = 60.0
    """All orphan counts together stop after this long; the relations left are reported as not counted."""
    long_running_query: float = 300.0
    """Statements running longer than this are reported by queries.long_running."""


@dataclass(frozen=True, slots=True)
class SecurityConfig:
    allowed_cidrs: tuple[str, ...] = ()
    """Client networks expected to connect (["10.0.0.0/8", "192.0.2.10/32"]); empty: not checked."""


@dataclass(frozen=True, slots=True)
class IntegrityRelation:
    child: str
    """schema.table.column of the referencing column ("public.anexos.projeto_id")."""
    parent: str
    """schema.table.column it must match ("public.projetos.id")."""


@dataclass(frozen=True, slots=True)
class IntegrityConfig:
    relations: tuple[IntegrityRelation, ...] = ()
    """[[integrity.relations]] child, parent: relations the schema does not declare as foreign keys."""


@dataclass(frozen=True, slots=True)
class BackupsConfig:
    path: str | None = None
    """The directory holding the dumps (pg_dump -Fc); unset: backup.files is not checked."""
    glob: str = "*.dump"
    """Which files of that directory are dumps."""
    max_age: float = 93600.0
    """The newest dump older than this (default 26h: one daily run plus slack) is a warning."""


@dataclass(frozen=True, slots=True)
class Config:
    console: ConsoleConfig = field(default_factory=ConsoleConfig)
    actions: ActionsConfig = field(default_factory=ActionsConfig)
    alerts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """[alerts.RULE] overrides of the shipped rules (threshold, for, clear_threshold, ...)."""
    notifications: NotificationsConfig = field(default_factory=NotificationsConfig)
    targets: Mapping[str, TargetConfig] = field(default_factory=dict)
    thresholds: Thresholds = field(default_factory=Thresholds)
    escalation: EscalationConfig = field(default_factory=EscalationConfig)
    """[escalation]: the runbook's contact levels and escalation matrix."""
    incidents: IncidentsConfig = field(default_factory=IncidentsConfig)
    """[incidents]: incident mode (status-update cadence, files, templates)."""
    history: HistoryConfig = field(default_factory=HistoryConfig)
    capacity: CapacityConfig = field(default_factory=CapacityConfig)
    diagnose: DiagnoseConfig = field(default_factory=DiagnoseConfig)
    security: SecurityConfig = field(default_factory=SecurityConfig)
    integrity: IntegrityConfig = field(default_factory=IntegrityConfig)
    backups: BackupsConfig = field(default_factory=BackupsConfig)
    path: Path | None = None
    """The file this was read from, if any."""

    def target(self, name: str | None) -> TargetConfig:
        """The named target, or the only / default one when ``name`` is None."""
        where = str(self.path) if self.path else None
        if not self.targets:
            raise ConfigError("no [targets.NAME] section: add one (see config.toml.example)", where)
        if name is None:
            if len(self.targets) == 1:
                return next(iter(self.targets.values()))
            name = self.console.default_target
            if name is None:
                raise ConfigError(
                    "several targets and no console.default_target: choose one with --target "
                    f"({', '.join(sorted(self.targets))})",
                    where,
                )
        if name not in self.targets:
            hint = _did_you_mean(name, self.targets)
            raise ConfigError(
                f"no target named {name!r}{hint} (targets: {', '.join(sorted(self.targets))})",
                where,
                "targets",
            )
        return self.targets[name]


def state_home() -> str:
    """$XDG_STATE_HOME, else ~/.local/state (as the XDG base-directory spec says)."""
    return os.environ.get("XDG_STATE_HOME") or "~/.local/state"


# ---------------------------------------------------------------------------------------------
# Loading


def default_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "engflow-tui" / "config.toml"


def find_config_path(explicit: str | None) -> Path | None:
    """``--config``, then ``$ENGFLOW_CONFIG``, then the XDG location; None when there is none."""
    if explicit:
        path = Path(explicit).expanduser()
        if not path.exists():
            raise ConfigError("file not found", str(path))
        return path
    env = os.environ.get("ENGFLOW_CONFIG")
    if env:
        path = Path(env).expanduser()
        if not path.exists():
            raise ConfigError("file not found (named by $ENGFLOW_CONFIG)", str(path))
        return path
    path = default_config_path()
    return path if path.exists() else None


def _did_you_mean(key: str, known: Any) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


MIN_REFRESH = 0.2
"""Faster polling would make the console the load it watches."""

MAX_NESTING = 32
"""No setting nests tables or arrays deeper than a few levels; deeper is not a config file."""

_DURATION_LIMITS: dict[str, tuple[bool, str]] = {
    # key (list indices and the severity of status_update_every left out): (above zero, at most).
    # A timeout of 0 waits forever (PostgreSQL's lock_timeout, statement_timeout) and an interval
    # of 0 spins; the maxima are far above any sane value and far below what overflows a timer.
    "console.refresh_interval": (False, "1h"),  # and at least MIN_REFRESH
    "console.connect_timeout": (True, "5m"),
    "console.slow_queries_interval": (True, "1d"),
    "console.catalog_interval": (True, "1d"),
    "console.size_interval": (True, "1d"),
    "console.http_interval": (True, "1d"),
    "console.http_timeout": (True, "5m"),
    "actions.lock_timeout": (True, "1h"),
    "actions.statement_timeout": (True, "1d"),
    "actions.analyze_timeout": (True, "1d"),
    "actions.http_timeout": (True, "5m"),
    "thresholds.idle_in_transaction": (False, "30d"),
    "notifications.repeat_interval": (True, "7d"),
    "history.sample_interval": (False, "1d"),  # and at least 1s
    "history.size_interval": (True, "7d"),
    "history.raw_retention": (True, MAX_DURATION),
    "history.hourly_retention": (True, MAX_DURATION),
    "history.daily_retention": (True, MAX_DURATION),
    "diagnose.statement_timeout": (True, "1h"),
    "diagnose.orphan_count_timeout": (True, "1d"),
    "diagnose.orphan_total_timeout": (True, "1d"),
    "diagnose.long_running_query": (True, "30d"),
    "backups.max_age": (True, "365d"),
    "escalation.matrix.initial_response": (True, "30d"),
    "escalation.matrix.escalate_after": (True, "30d"),
    "incidents.status_update_every": (True, "7d"),
}
"""Every duration setting's bounds; one not listed is at least 0 and at most MAX_DURATION."""


def bounded_duration(key: str, value: object) -> float:
    """Seconds for the duration setting ``key`` within its bounds; ValueError says which."""
    name = re.sub(r"\[\d+\]", "", key)
    if name not in _DURATION_LIMITS:
        name = name.rsplit(".", 1)[0]  # incidents.status_update_every.1
    above_zero, at_most = _DURATION_LIMITS.get(name, (False, MAX_DURATION))
    return parse_bounded(value, above_zero=above_zero, at_most=at_most)


def _nesting_problem(data: Mapping[str, Any]) -> str | None:
    """Tables or arrays nested deeper than MAX_NESTING (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_NESTING:
            return f"nested too deeply: more than {MAX_NESTING} levels of tables or arrays"
        children = value.values() if isinstance(value, dict) else value
        stack.extend((v, depth + 1) for v in children if isinstance(v, (dict, list)))
    return None


class _Reader:
    """Reads one TOML table into dataclass fields, naming file and key on any error."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(message, self.path, key)

    def table(self, data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table ([{key}]), not {type(value).__name__}")
        return value

    def check_keys(self, data: Mapping[str, Any], allowed: set[str], prefix: str) -> None:
        for key in data:
            if key not in allowed:
                raise self.fail(f"{prefix}{key}", f"unknown key{_did_you_mean(key, allowed)}")

    def convert(self, key: str, value: Any, kind: str) -> Any:
        try:
            if kind == "duration":
                return bounded_duration(key, value)
            if kind == "bool":
                if not isinstance(value, bool):
                    raise ValueError(f"must be true or false, not {value!r}")
                return value
            if kind == "str":
                if not isinstance(value, str) or not value.strip():
                    raise ValueError(f"must be a non-empty string, not {value!r}")
                return value
            if kind == "number":
                if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                    raise ValueError(f"must be a non-negative number, not {value!r}")
                return float(value)
            if kind == "int":
                if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                    raise ValueError(f"must be a positive whole number, not {value!r}")
                return value
            if kind == "strlist":
                if (
                    not isinstance(value, list)
                    or not value
                    or not all(isinstance(v, str) and v for v in value)
                ):
                    raise ValueError(f"must be a non-empty list of names, not {value!r}")
                return tuple(value)
            if kind == "url":
                if not isinstance(value, str) or not re.match(r"^https?://[^/\s]+", value):
                    raise ValueError(f"must be an http(s):// URL, not {value!r}")
                return value.rstrip("/") if key.endswith(("rest_url", "app_url")) else value
            if kind == "envname":
                if not isinstance(value, str) or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", value):
                    raise ValueError(f"must be the NAME of an environment variable, not {value!r}")
                return value
        except ValueError as exc:
            raise self.fail(key, str(exc)) from None
        raise AssertionError(kind)


_CONSOLE_KINDS = {
    "refresh_interval": "duration",
    "read_only": "bool",
    "operator": "str",
    "audit_log": "str",
    "state_dir": "str",
    "default_target": "str",
    "connect_timeout": "duration",
    "slow_queries_interval": "duration",
    "catalog_interval": "duration",
    "size_interval": "duration",
    "http_interval": "duration",
    "http_timeout": "duration",
    "max_sessions": "int",
    "slow_queries_limit": "int",
}
_TARGET_KINDS = {
    "dsn": "str",
    "password_env": "envname",
    "action_dsn": "str",
    "action_password_env": "envname",
    "exposed_schemas": "strlist",
    "rest_url": "url",
    "rest_apikey_env": "envname",
    "app_health_url": "url",
    "read_only": "bool",
    "app_url": "url",
    "emergency_token_env": "envname",
    "rest_probe_path": "str",
    "metrics_url": "url",
    "metrics_user": "str",
    "metrics_password_env": "envname",
    "metrics_mountpoint": "str",
    "active_users_sql": "str",
}
_ACTION_KINDS = {
    "lock_timeout": "duration",
    "statement_timeout": "duration",
    "analyze_timeout": "duration",
    "http_timeout": "duration",
}
_THRESHOLD_KINDS = {
    "idle_in_transaction": "duration",
    "slow_query_ms": "number",
    "connections_warning_pct": "number",
    "connections_critical_pct": "number",
    "cache_hit_warning_pct": "number",
    "min_transactions": "int",
    "min_probes": "int",
    "min_cache_blocks": "int",
}
_HISTORY_KINDS = {
    "enabled": "bool",
    "sample_interval": "duration",
    "size_interval": "duration",
    "raw_retention": "duration",
    "hourly_retention": "duration",
    "daily_retention": "duration",
    "max_size_mb": "number",
}
_TOP_LEVEL = {
    "console",
    "targets",
    "thresholds",
    "actions",
    "alerts",
    "notifications",
    "escalation",
    "incidents",
    "history",
    "capacity",
    "diagnose",
    "security",
    "integrity",
    "backups",
}

_SIZE_UNITS = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3, "tb": 1024**4}


def parse_size(value: object) -> float:
    """Bytes for "8GB", "500 MB", "1.5TB" or a plain number of bytes; ValueError otherwise."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    if isinstance(value, str):
        match = re.match(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?b)\s*$", value, re.I)
        if match and float(match.group(1)) > 0:
            return float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()]
    raise ValueError(f'must be a size like "8GB", "500MB" or a number of bytes, not {value!r}')


def _history_sections(reader: _Reader, data: Mapping[str, Any]) -> dict[str, Any]:
    """[history] and [capacity] (issue 9): the local metrics store and the capacity projections."""
    raw = reader.table(data, "history")
    reader.check_keys(raw, set(_HISTORY_KINDS), "history.")
    history = HistoryConfig(
        **{k: reader.convert(f"history.{k}", v, _HISTORY_KINDS[k]) for k, v in raw.items()}
    )
    if history.sample_interval < 1:
        raise reader.fail("history.sample_interval", "must be at least 1s")
    if history.max_size_mb < 1:
        raise reader.fail("history.max_size_mb", "must be at least 1 (MB)")
    capacity_raw = reader.table(data, "capacity")
    reader.check_keys(capacity_raw, {"storage_limit"}, "capacity.")
    limit = None
    if "storage_limit" in capacity_raw:
        try:
            limit = parse_size(capacity_raw["storage_limit"])
        except ValueError as exc:
            raise reader.fail("capacity.storage_limit", str(exc)) from None
    return {"history": history, "capacity": CapacityConfig(storage_limit=limit)}


def parse_config(data: Mapping[str, Any], path: str = "<config>") -> Config:
    """Build a Config from parsed TOML, validating every key."""
    reader = _Reader(path)
    if problem := _nesting_problem(data):
        raise ConfigError(problem, path)
    reader.check_keys(data, _TOP_LEVEL, "")

    console_raw = reader.table(data, "console")
    reader.check_keys(console_raw, set(_CONSOLE_KINDS), "console.")
    console = ConsoleConfig(
        **{k: reader.convert(f"console.{k}", v, _CONSOLE_KINDS[k]) for k, v in console_raw.items()}
    )
    if console.refresh_interval < MIN_REFRESH:
        raise reader.fail(
            "console.refresh_interval", f"must be at least {MIN_REFRESH * 1000:.0f}ms"
        )

    thresholds_raw = reader.table(data, "thresholds")
    reader.check_keys(thresholds_raw, set(_THRESHOLD_KINDS), "thresholds.")
    thresholds = Thresholds(
        **{
            k: reader.convert(f"thresholds.{k}", v, _THRESHOLD_KINDS[k])
            for k, v in thresholds_raw.items()
        }
    )
    if thresholds.connections_warning_pct > thresholds.connections_critical_pct:
        raise reader.fail(
            "thresholds.connections_warning_pct", "must not be above connections_critical_pct"
        )

    actions_raw = reader.table(data, "actions")
    reader.check_keys(actions_raw, set(_ACTION_KINDS), "actions.")
    actions = ActionsConfig(
        **{k: reader.convert(f"actions.{k}", v, _ACTION_KINDS[k]) for k, v in actions_raw.items()}
    )

    alerts_raw = dict(reader.table(data, "alerts"))
    from .alerts.rules import load_rules

    load_rules(alerts_raw, path)  # validates every override (file + key in the message)

    notifications = _notifications(reader, reader.table(data, "notifications"))

    targets: dict[str, TargetConfig] = {}
    for name, raw in reader.table(data, "targets").items():
        prefix = f"targets.{name}."
        if not name.strip():
            raise reader.fail(
                f'targets."{name}"', 'a target needs a name: [targets.production], not [targets.""]'
            )
        if not isinstance(raw, dict):
            raise reader.fail(f"targets.{name}", "must be a table ([targets.NAME])")
        reader.check_keys(raw, set(_TARGET_KINDS), prefix)
        values = {k: reader.convert(prefix + k, v, _TARGET_KINDS[k]) for k, v in raw.items()}
        target = TargetConfig(name=name, **values)
        for key, env_key in (("dsn", "password_env"), ("action_dsn", "action_password_env")):
            dsn = getattr(target, key)
            if dsn is not None and (problem := validate_dsn(dsn)):
                raise reader.fail(prefix + key, f"{problem} (in {mask_dsn(dsn)})")
            if dsn is not None and dsn_has_password(dsn):
                raise reader.fail(
                    prefix + key,
                    f"contains a password: remove it and name an environment variable in {env_key}",
                )
        targets[name] = target

    if console.default_target is not None and console.default_target not in targets:
        raise reader.fail(
            "console.default_target",
            f"names no target{_did_you_mean(console.default_target, targets)}",
        )
    return Config(
        console=console,
        actions=actions,
        alerts=alerts_raw,
        notifications=notifications,
        targets=targets,
        thresholds=thresholds,
        escalation=_escalation(reader, reader.table(data, "escalation")),
        incidents=_incidents(reader, reader.table(data, "incidents")),
        **_history_sections(reader, data),
        **_diagnostics_sections(reader, data),
    )


_DIAGNOSE_KINDS = {
    "exclude": "strlist",
    "statement_timeout": "duration",
    "orphan_count_timeout": "duration",
    "orphan_total_timeout": "duration",
    "long_running_query": "duration",
}
_BACKUPS_KINDS = {"path": "str", "glob": "str", "max_age": "duration"}
_COLUMN_PATH = re.compile(r"^[^.\s]+\.[^.\s]+\.[^.\s]+$")


def _diagnostics_sections(reader: _Reader, data: Mapping[str, Any]) -> dict[str, Any]:
    """[diagnose], [security], [integrity] and [backups] (issue 6: diagnostics)."""
    import ipaddress

    raw = reader.table(data, "diagnose")
    reader.check_keys(raw, set(_DIAGNOSE_KINDS), "diagnose.")
    values: dict[str, Any] = {
        k: () if v == [] else reader.convert(f"diagnose.{k}", v, _DIAGNOSE_KINDS[k])
        for k, v in raw.items()
    }
    for item in values.get("exclude", ()):
        if not re.match(r"^[a-z_]+(\.[a-z_]+)*(:.+)?$", item):
            raise reader.fail(
                "diagnose.exclude",
                f"{item!r} is not a check id or check_id:key (e.g. 'security.function_search_path:public.my_fn')",
            )
        from .diagnostics import check_ids  # only when there is something to check

        check_id = item.split(":", 1)[0]
        if check_id not in check_ids():
            raise reader.fail(
                "diagnose.exclude",
                f"no check {check_id!r}{_did_you_mean(check_id, check_ids())}",
            )
    diagnose = DiagnoseConfig(**values)

    raw = reader.table(data, "security")
    reader.check_keys(raw, {"allowed_cidrs"}, "security.")
    cidrs: tuple[str, ...] = ()
    if raw.get("allowed_cidrs", []) != []:
        cidrs = reader.convert("security.allowed_cidrs", raw["allowed_cidrs"], "strlist")
        for cidr in cidrs:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise reader.fail(
                    "security.allowed_cidrs", f"{cidr!r} is not an address or network (10.0.0.0/8)"
                ) from None

    raw = reader.table(data, "integrity")
    reader.check_keys(raw, {"relations"}, "integrity.")
    relations_raw = raw.get("relations", [])
    if not isinstance(relations_raw, list):
        raise reader.fail(
            "integrity.relations", "must be an array of tables ([[integrity.relations]])"
        )
    relations = []
    for index, rel in enumerate(relations_raw):
        where = f"integrity.relations[{index}]"
        if not isinstance(rel, dict):
            raise reader.fail(where, "must be a table with child and parent")
        reader.check_keys(rel, {"child", "parent"}, where + ".")
        for key in ("child", "parent"):
            value = rel.get(key)
            if not isinstance(value, str) or not _COLUMN_PATH.match(value):
                raise reader.fail(
                    f"{where}.{key}",
                    f"must be schema.table.column (e.g. 'public.anexos.projeto_id'), not {value!r}",
                )
        relations.append(IntegrityRelation(rel["child"], rel["parent"]))

    raw = reader.table(data, "backups")
    reader.check_keys(raw, set(_BACKUPS_KINDS), "backups.")
    backups = BackupsConfig(
        **{k: reader.convert(f"backups.{k}", v, _BACKUPS_KINDS[k]) for k, v in raw.items()}
    )
    glob = raw.get("glob")
    if isinstance(glob, str) and (not glob.strip() or glob.startswith("/") or ".." in glob):
        raise reader.fail(
            "backups.glob",
            f'{glob!r}: give a pattern relative to backups.path, like "*.dump" '
            "(the directory goes in backups.path)",
        )
    return {
        "diagnose": diagnose,
        "security": SecurityConfig(allowed_cidrs=cidrs),
        "integrity": IntegrityConfig(relations=tuple(relations)),
        "backups": backups,
    }


def _notifications(reader: _Reader, raw: Mapping[str, Any]) -> NotificationsConfig:
    reader.check_keys(raw, {"bell", "repeat_interval", "webhooks"}, "notifications.")
    bell = reader.convert("notifications.bell", raw["bell"], "bool") if "bell" in raw else True
    repeat = (
        reader.convert("notifications.repeat_interval", raw["repeat_interval"], "duration")
        if "repeat_interval" in raw
        else 1800.0
    )
    hooks = raw.get("webhooks", [])
    if not isinstance(hooks, list):
        raise reader.fail(
            "notifications.webhooks", "must be an array of tables ([[notifications.webhooks]])"
        )
    webhooks = []
    for index, hook in enumerate(hooks):
        where = f"notifications.webhooks[{index}]"
        if not isinstance(hook, dict):
            raise reader.fail(where, "must be a table")
        reader.check_keys(hook, {"kind", "url_env", "min_severity"}, where + ".")
        kind = hook.get("kind")
        if kind not in ("slack", "json", "alertmanager"):
            raise reader.fail(where + ".kind", f"must be slack, json or alertmanager, not {kind!r}")
        if "url_env" not in hook:
            raise reader.fail(
                where + ".url_env", "missing: the NAME of the variable holding the URL"
            )
        url_env = reader.convert(where + ".url_env", hook["url_env"], "envname")
        severity = hook.get("min_severity", "warning")
        if severity not in ("critical", "warning", "info"):
            raise reader.fail(
                where + ".min_severity", f"must be critical, warning or info, not {severity!r}"
            )
        webhooks.append(WebhookConfig(kind, url_env, severity))
    return NotificationsConfig(bell=bell, repeat_interval=repeat, webhooks=tuple(webhooks))


_LEVEL_KEYS = ("name", "title", "contact", "availability", "response_time", "escalation")


def _escalation(reader: _Reader, raw: Mapping[str, Any]) -> EscalationConfig:
    reader.check_keys(
        raw, {"levels", "matrix", "business_day_start", "business_utc_offset"}, "escalation."
    )
    default = EscalationConfig()
    levels = default.levels
    if "levels" in raw:
        items = raw["levels"]
        if not isinstance(items, list) or not items:
            raise reader.fail(
                "escalation.levels", "must be a non-empty array of tables ([[escalation.levels]])"
            )
        parsed = []
        for index, item in enumerate(items):
            where = f"escalation.levels[{index}]"
            if not isinstance(item, dict):
                raise reader.fail(where, "must be a table")
            reader.check_keys(item, set(_LEVEL_KEYS), where + ".")
            if "name" not in item:
                raise reader.fail(where + ".name", 'missing: the level\'s name ("Level 2")')
            values = {k: reader.convert(f"{where}.{k}", item[k], "str") for k in item}
            parsed.append(EscalationLevel(**values))
        levels = tuple(parsed)
    names = {level.name for level in levels}
    matrix = default.matrix
    if "matrix" in raw:
        items = raw["matrix"]
        if not isinstance(items, list):
            raise reader.fail("escalation.matrix", "must be an array of tables")
        by_severity = {r.severity: r for r in default.matrix}
        for index, item in enumerate(items):
            where = f"escalation.matrix[{index}]"
            if not isinstance(item, dict):
                raise reader.fail(where, "must be a table")
            reader.check_keys(
                item,
                {"severity", "name", "initial_response", "escalate_after", "escalate_to"},
                where + ".",
            )
            severity = item.get("severity")
            if severity not in (1, 2, 3, 4) or isinstance(severity, bool):
                raise reader.fail(where + ".severity", f"must be 1, 2, 3 or 4, not {severity!r}")
            rule = by_severity[severity]
            after: float | None = rule.escalate_after
            if "escalate_after" in item:
                value = item["escalate_after"]
                after = (
                    None
                    if value == "next business day"
                    else reader.convert(where + ".escalate_after", value, "duration")
                )
            by_severity[severity] = EscalationRule(
                severity,
                reader.convert(where + ".name", item["name"], "str")
                if "name" in item
                else rule.name,
                reader.convert(where + ".initial_response", item["initial_response"], "duration")
                if "initial_response" in item
                else rule.initial_response,
                after,
                reader.convert(where + ".escalate_to", item["escalate_to"], "strlist")
                if "escalate_to" in item
                else rule.escalate_to,
            )
        matrix = tuple(by_severity[s] for s in (1, 2, 3, 4))
    for rule in matrix:
        for name in rule.escalate_to:
            if name not in names:
                raise reader.fail(
                    f"escalation.matrix (severity {rule.severity}).escalate_to",
                    f"names no level {name!r}{_did_you_mean(name, names)}",
                )
    start = default.business_day_start
    if "business_day_start" in raw:
        start = raw["business_day_start"]
        if not isinstance(start, str) or not re.match(r"^([01]\d|2[0-3]):[0-5]\d$", start):
            raise reader.fail(
                "escalation.business_day_start", f'must be a time "HH:MM", not {start!r}'
            )
    offset = default.business_utc_offset
    if "business_utc_offset" in raw:
        offset = raw["business_utc_offset"]
        if isinstance(offset, bool) or not isinstance(offset, (int, float)) or abs(offset) > 14:
            raise reader.fail(
                "escalation.business_utc_offset",
                f"must be a number of hours between -14 and 14, not {offset!r}",
            )
        offset = float(offset)
    return EscalationConfig(levels, matrix, start, offset)


_INCIDENT_KINDS = {
    "state_file": "str",
    "reports_dir": "str",
    "system": "str",
    "status_page_url": "str",
    "webhook_url_env": "envname",
    "close_resolved_after": "duration",
}


def _incidents(reader: _Reader, raw: Mapping[str, Any]) -> IncidentsConfig:
    reader.check_keys(raw, {*_INCIDENT_KINDS, "status_update_every"}, "incidents.")
    values: dict[str, Any] = {
        k: reader.convert(f"incidents.{k}", v, _INCIDENT_KINDS[k])
        for k, v in raw.items()
        if k in _INCIDENT_KINDS
    }
    if "status_update_every" in raw:
        table = raw["status_update_every"]
        if not isinstance(table, dict):
            raise reader.fail(
                "incidents.status_update_every", 'must be a table: {1 = "15m", 2 = "30m", ...}'
            )
        cadence = dict(_runbook_update_cadence())
        for key, value in table.items():
            if key not in ("1", "2", "3", "4"):
                raise reader.fail(
                    f"incidents.status_update_every.{key}", "must be a severity: 1, 2, 3 or 4"
                )
            seconds = reader.convert(f"incidents.status_update_every.{key}", value, "duration")
            cadence[int(key)] = seconds
        values["status_update_every"] = cadence
    return IncidentsConfig(**values)


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "_"


def incident_state_path(config: Config, target: str) -> Path:
    """The file of ``target``'s open incident (incidents.state_file)."""
    setting = config.incidents.state_file
    if setting:
        return Path(os.path.expanduser(setting.replace("{target}", _safe_name(target))))
    return incident_reports_dir(config) / f"{_safe_name(target)}.json"


def incident_reports_dir(config: Config) -> Path:
    """Where reports, saved messages and resolved incidents go (incidents.reports_dir)."""
    setting = config.incidents.reports_dir
    if setting:
        return Path(os.path.expanduser(setting))
    return Path(os.path.expanduser(config.console.state_dir)) / "incidents"


def load_config(path: Path) -> Config:
    """Read and validate a config file; every problem is a ConfigError naming file and key."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", str(path)) from None
    except UnicodeDecodeError:
        raise ConfigError("is not UTF-8 text", str(path)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"TOML syntax error: {exc}", str(path)) from None
    except RecursionError:  # the parser recurses once per level of arrays or inline tables
        raise ConfigError(
            f"nested too deeply: more than {MAX_NESTING} levels of tables or arrays", str(path)
        ) from None
    config = parse_config(data, str(path))
    return replace(config, path=path)


SECRET_ENV_KEYS = ("password_env", "action_password_env")
"""Needed to connect at all: the console refuses to start without them."""
OTHER_ENV_KEYS = ("rest_apikey_env", "emergency_token_env", "metrics_password_env")
"""Needed by one probe or action: `config check` reports them, the console starts without them."""


def check_target_environment(
    target: TargetConfig, path: str | None, keys: tuple[str, ...] = SECRET_ENV_KEYS
) -> None:
    """Env vars named by the target must be set (by default: the ones needed to connect)."""
    for key in keys:
        name = getattr(target, key)
        if name and name not in os.environ:
            raise ConfigError(
                f"environment variable {name} is not set (named by {key}; export it before starting)",
                path,
                f"targets.{target.name}.{key}",
            )


def starter_config_text() -> str:
    """The content written by ``config init``: the shipped example."""
    from importlib.resources import files

    return files("engflow_tui").joinpath("config.toml.example").read_text(encoding="utf-8")
