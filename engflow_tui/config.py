"""Configuration: TOML file -> frozen dataclasses, plus target resolution from CLI and environment.

The schema is written once: each field carries its kind, bounds and doc in its metadata
(settings.setting); the reader below, ``config show`` (config_dump.py) and the test of
config.toml.example derive from it. The app receives a built :class:`Config`; it never reads
files itself. Every error names the file and the key. Secrets are only ever referenced by
environment-variable name. Must not import Textual.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import Field, dataclass, field, fields, replace
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from .dsn import describe_env_dsn, dsn_has_password, mask_dsn, os_user, validate_dsn
from .durations import parse_bounded
from .errors import ConfigError
from .settings import (
    Problem,
    Setting,
    default_of,
    file_fields,
    file_keys,
    is_required,
    or_list,
    setting,
    setting_of,
)
from .thresholds import Thresholds as Thresholds  # re-exported: a section of Config
from .thresholds import thresholds_problem

MIN_REFRESH = 0.2
"""Faster polling would make the console the load it watches."""

MAX_NESTING = 32
"""No setting nests tables or arrays deeper than a few levels; deeper is not a config file."""


# ---------------------------------------------------------------------------------------------
# What a kind cannot say: the checks some settings name in their schema


def _did_you_mean(key: str, known: Any) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _dsn_check(env_key: str) -> Callable[[str], Problem]:
    """A DSN libpq would refuse, or one that carries a password (named by ``env_key`` instead)."""

    def check(dsn: str) -> Problem:
        if problem := validate_dsn(dsn):
            return f"{problem} (in {mask_dsn(dsn)})"
        if dsn_has_password(dsn):
            return f"contains a password: remove it and name an environment variable in {env_key}"
        return None

    return check


@cache
def diagnose_checks() -> dict[str, bool]:
    """Every check id the diagnosis produces, in report order, with whether ``--quick`` runs it:
    the catalogue ``diagnostics/checks.toml`` (data: the config reads it without importing the
    diagnostics)."""
    text = files("engflow_tui").joinpath("diagnostics", "checks.toml").read_text(encoding="utf-8")
    return {check_id: bool(v["quick"]) for check_id, v in tomllib.loads(text)["checks"].items()}


def _exclude_problem(items: tuple[str, ...]) -> Problem:
    for item in items:
        if not re.match(r"^[a-z_]+(\.[a-z_]+)*(:.+)?$", item):
            return f"{item!r} is not a check id or check_id:key (e.g. 'security.function_search_path:public.my_fn')"
        check_id = item.split(":", 1)[0]
        if check_id not in diagnose_checks():
            return f"no check {check_id!r}{_did_you_mean(check_id, diagnose_checks())}"
    return None


def _cidrs_problem(cidrs: tuple[str, ...]) -> Problem:
    for cidr in cidrs:
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            return f"{cidr!r} is not an address or network (10.0.0.0/8)"
    return None


def _glob_problem(glob: str) -> Problem:
    if glob.startswith("/") or ".." in glob:
        return (
            f'{glob!r}: give a pattern relative to backups.path, like "*.dump" '
            "(the directory goes in backups.path)"
        )
    return None


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


# ---------------------------------------------------------------------------------------------
# The schema


@dataclass(frozen=True, slots=True)
class ConsoleConfig:
    refresh_interval: float = field(
        default=2.0,
        metadata=setting(
            "duration",
            'Seconds between two activity polls ("2s").',
            at_most="1h",
            at_least=(MIN_REFRESH, "200ms"),
        ),
    )
    read_only: bool = field(
        default=False,
        metadata=setting("bool", "Refuse every action that changes the database."),
    )
    operator: str = field(
        default_factory=lambda: os_user(),
        metadata=setting("str", "Who signs checklists and actions; default: the OS user."),
    )
    audit_log: str = field(
        default_factory=lambda: f"{state_home()}/engflow-tui/audit.jsonl",
        metadata=setting(
            "str", "Where confirmed actions, refusals and failures are appended (JSON lines)."
        ),
    )
    state_dir: str = field(
        default_factory=lambda: f"{state_home()}/engflow-tui",
        metadata=setting(
            "str", "Where the alert history (one file per target) and the checklist runs are kept."
        ),
    )
    default_target: str | None = field(
        default=None,
        metadata=setting("str", "The target to open when the file names several."),
    )
    connect_timeout: float = field(
        default=5.0,
        metadata=setting(
            "duration",
            "Give up a connection attempt after this long.",
            above_zero=True,
            at_most="5m",
        ),
    )
    slow_queries_interval: float = field(
        default=30.0,
        metadata=setting(
            "duration",
            "Seconds between two pg_stat_statements reads (they are expensive on busy servers).",
            above_zero=True,
            at_most="1d",
        ),
    )
    catalog_interval: float = field(
        default=30.0,
        metadata=setting(
            "duration",
            "Seconds between two RLS / policy catalogue scans; on PostgreSQL 15+ the scan follows "
            "DDL instead, at most every third of this and at least every four times it.",
            above_zero=True,
            at_most="1d",
        ),
    )
    size_interval: float = field(
        default=60.0,
        metadata=setting(
            "duration",
            "Seconds between two database-size reads (cost grows with the number of relations).",
            above_zero=True,
            at_most="1d",
        ),
    )
    http_interval: float = field(
        default=10.0,
        metadata=setting(
            "duration",
            "Seconds between two HTTP probes (REST API, app health) and host-metrics scrapes.",
            above_zero=True,
            at_most="1d",
        ),
    )
    http_timeout: float = field(
        default=5.0,
        metadata=setting(
            "duration",
            "An HTTP probe or scrape without its whole answer (connect, headers, body) after this "
            "long is a timeout.",
            above_zero=True,
            at_most="5m",
        ),
    )
    max_sessions: int = field(
        default=50,
        metadata=setting(
            "int",
            "At most this many sessions are shipped to the session table, worst first, after the "
            "panel's filter (applied by the server); the counts are always complete.",
        ),
    )
    slow_queries_limit: int = field(
        default=20,
        metadata=setting("int", "Top N statements shown in the slow-queries panel."),
    )


@dataclass(frozen=True, slots=True)
class TargetConfig:
    name: str = field(metadata=setting("key", "The target's name: the key under [targets]."))
    dsn: str | None = field(
        default=None,
        metadata=setting(
            "dsn",
            "libpq URI or key=value string; None means PG* environment variables.",
            check=_dsn_check("password_env"),
        ),
    )
    password_env: str | None = field(
        default=None,
        metadata=setting("envname", "Name of the environment variable that holds the password."),
    )
    action_dsn: str | None = field(
        default=None,
        metadata=setting(
            "dsn",
            "Where actions connect (a role that may signal backends and alter tables); "
            "default: dsn.",
            check=_dsn_check("action_password_env"),
        ),
    )
    action_password_env: str | None = field(
        default=None,
        metadata=setting(
            "envname",
            "Name of the environment variable that holds the action role's password; "
            "default: password_env.",
        ),
    )
    exposed_schemas: tuple[str, ...] = field(
        default=("public",),
        metadata=setting("names", "Schemas the REST API serves: RLS matters there."),
    )
    rest_url: str | None = field(
        default=None,
        metadata=setting("url", "Base URL of the REST API (…/rest/v1).", strip_slash=True),
    )
    rest_apikey_env: str | None = field(
        default=None,
        metadata=setting(
            "envname", "Name of the environment variable that holds the REST API key."
        ),
    )
    app_health_url: str | None = field(
        default=None,
        metadata=setting("url", "The application's /health endpoint."),
    )
    read_only: bool = field(
        default=False,
        metadata=setting("bool", "Refuse actions on this target, whatever [console] says."),
    )
    rest_probe_path: str = field(
        default="clientes?select=count",
        metadata=setting(
            "str", "What the REST probe GETs under rest_url (runbook: a count on clientes)."
        ),
    )
    metrics_url: str | None = field(
        default=None,
        metadata=setting(
            "url",
            "A Prometheus exposition with node_* metrics (node_exporter or the provider's "
            "endpoint).",
        ),
    )
    metrics_user: str | None = field(
        default=None,
        metadata=setting("str", "Basic-auth user for metrics_url."),
    )
    metrics_password_env: str | None = field(
        default=None,
        metadata=setting(
            "envname", "Name of the environment variable that holds the metrics_url password."
        ),
    )
    metrics_mountpoint: str = field(
        default="/",
        metadata=setting("str", "The filesystem whose usage the Disk Usage alert watches."),
    )
    active_users_sql: str = field(
        default=(
            "SELECT count(*) FROM auth.users WHERE last_sign_in_at > now() - interval '24 hours'"
        ),
        metadata=setting(
            "str",
            "A count of active users (User Growth alert); runs read-only with the statement "
            "timeout.",
        ),
    )
    app_url: str | None = field(
        default=None,
        metadata=setting(
            "url",
            "The application's base URL (the emergency fallback is POSTed to "
            "{app_url}/api/emergency/enable-fallback).",
            strip_slash=True,
        ),
    )
    emergency_token_env: str | None = field(
        default=None,
        metadata=setting(
            "envname", "Name of the environment variable that holds the emergency bearer token."
        ),
    )

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
class ActionsConfig:
    lock_timeout: float = field(
        default=3.0,
        metadata=setting(
            "duration",
            "DDL waits at most this long for a lock, then fails instead of queueing every query.",
            above_zero=True,
            at_most="1h",
        ),
    )
    statement_timeout: float = field(
        default=30.0,
        metadata=setting(
            "duration",
            "Any action statement is cancelled after this long.",
            above_zero=True,
            at_most="1d",
        ),
    )
    analyze_timeout: float = field(
        default=600.0,
        metadata=setting(
            "duration",
            "ANALYZE (whole database or one table) is cancelled after this long.",
            above_zero=True,
            at_most="1d",
        ),
    )
    http_timeout: float = field(
        default=10.0,
        metadata=setting(
            "duration",
            "The emergency fallback call and incident message posts give up after this long "
            "(answer included).",
            above_zero=True,
            at_most="5m",
        ),
    )


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    kind: str = field(
        metadata=setting(
            "choice", "slack | json | alertmanager", choices=("slack", "json", "alertmanager")
        )
    )
    url_env: str = field(
        metadata=setting(
            "envname",
            "Name of the environment variable that holds the URL (it may embed a secret).",
            missing="missing: the NAME of the variable holding the URL",
        )
    )
    min_severity: str = field(
        default="warning",
        metadata=setting(
            "choice",
            "Send alerts of this severity and worse (critical | warning | info).",
            choices=("critical", "warning", "info"),
        ),
    )


@dataclass(frozen=True, slots=True)
class NotificationsConfig:
    bell: bool = field(
        default=True,
        metadata=setting("bool", "Ring the terminal bell when an alert fires (and on repeats)."),
    )
    repeat_interval: float = field(
        default=1800.0,
        metadata=setting(
            "duration",
            "Re-notify a firing, unacknowledged alert this often.",
            above_zero=True,
            at_most="7d",
        ),
    )
    webhooks: tuple[WebhookConfig, ...] = field(
        default=(),
        metadata=setting(
            "tables",
            "[[notifications.webhooks]] kind, url_env, min_severity.",
            item=WebhookConfig,
            not_array="must be an array of tables ([[notifications.webhooks]])",
        ),
    )


@dataclass(frozen=True, slots=True)
class EscalationLevel:
    name: str = field(
        metadata=setting(
            "str",
            'The level\'s name, as the matrix names it ("Level 2").',
            missing='missing: the level\'s name ("Level 2")',
        )
    )
    title: str = field(default="", metadata=setting("str", 'What the level is ("Technical Team").'))
    contact: str = field(
        default="", metadata=setting("str", "How to reach it (an address, a rota, a portal).")
    )
    availability: str = field(
        default="", metadata=setting("str", 'When it answers ("24/7", "08:00-18:00 UTC-3").')
    )
    response_time: str = field(
        default="", metadata=setting("str", 'How fast it answers ("< 30 min").')
    )
    escalation: str = field(
        default="",
        metadata=setting("str", 'When to go to this level ("For Severity 1-2 incidents").'),
    )


@dataclass(frozen=True, slots=True)
class EscalationRule:
    severity: int = field(
        metadata=setting("choice", "1 (critical) to 4 (low).", choices=(1, 2, 3, 4))
    )
    name: str = field(metadata=setting("str", '"Critical", "High", "Medium", "Low".'))
    initial_response: float = field(
        metadata=setting(
            "duration",
            "Acknowledge the incident within this (seconds).",
            above_zero=True,
            at_most="30d",
        )
    )
    escalate_after: float | None = field(
        metadata=setting(
            "duration_or_next_business_day",
            "Escalate after this (seconds); None = at the start of the next business day.",
            above_zero=True,
            at_most="30d",
        )
    )
    escalate_to: tuple[str, ...] = field(metadata=setting("names", "Level names to escalate to."))


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
    business_day_start: str = field(
        default="08:00",
        metadata=setting(
            "clock", 'When a business day starts ("next business day" escalations fall due then).'
        ),
    )
    business_utc_offset: float = field(
        default=-3.0,
        metadata=setting("hours", "The business hours' offset from UTC in hours (runbook: UTC-3)."),
    )
    levels: tuple[EscalationLevel, ...] = field(
        default_factory=_runbook_levels,
        metadata=setting(
            "tables",
            "[[escalation.levels]] name, title, contact, availability, response_time, escalation.",
            item=EscalationLevel,
            non_empty=True,
            not_array="must be a non-empty array of tables ([[escalation.levels]])",
        ),
    )
    matrix: tuple[EscalationRule, ...] = field(
        default_factory=_runbook_matrix,
        metadata=setting(
            "tables",
            "[[escalation.matrix]] severity, name, initial_response, escalate_after, "
            "escalate_to: one table per severity to change, the others keep the runbook's.",
            item=EscalationRule,
            merge_by="severity",
        ),
    )

    def rule(self, severity: int) -> EscalationRule:
        return next(r for r in self.matrix if r.severity == severity)


def _escalation_problem(escalation: EscalationConfig) -> Problem:
    """Every level the matrix escalates to is a level."""
    names = {level.name for level in escalation.levels}
    for rule in escalation.matrix:
        for name in rule.escalate_to:
            if name not in names:
                return (
                    f"matrix (severity {rule.severity}).escalate_to",
                    f"names no level {name!r}{_did_you_mean(name, names)}",
                )
    return None


def _runbook_update_cadence() -> Mapping[int, float]:
    return {1: 900.0, 2: 1800.0, 3: 3600.0, 4: 14400.0}


@dataclass(frozen=True, slots=True)
class IncidentsConfig:
    status_update_every: Mapping[int, float] = field(
        default_factory=_runbook_update_cadence,
        metadata=setting(
            "per_severity",
            "Remind the operator to send a status update this often, per severity "
            '({1 = "15m", ...}).',
            above_zero=True,
            at_most="7d",
        ),
    )
    close_resolved_after: float = field(
        default=600.0,
        metadata=setting(
            "duration",
            "A resolved incident's bar stays (green) this long on every screen, then closes by "
            "itself (Close incident closes it sooner).",
        ),
    )
    state_file: str | None = field(
        default=None,
        metadata=setting(
            "str",
            "Where the open incident is saved on every change (a restarted console resumes it). "
            "Default: one file per target, ``<console.state_dir>/incidents/<target>.json`` — an "
            "incident belongs to its target. ``{target}`` in the path is replaced by the "
            "target's name; a path without it is one incident shared by every target, on purpose.",
        ),
    )
    reports_dir: str | None = field(
        default=None,
        metadata=setting(
            "str",
            "Where exported reports, saved messages and resolved incidents go (default: "
            "``<console.state_dir>/incidents``).",
        ),
    )
    system: str = field(
        default="EngFlow Production",
        metadata=setting("str", "The system named in the communication templates."),
    )
    status_page_url: str = field(
        default="[status-page-url]",
        metadata=setting("str", "The status page named in the user notification."),
    )
    webhook_url_env: str | None = field(
        default=None,
        metadata=setting(
            "envname",
            "Env var holding the Slack-compatible webhook for incident messages; default: the "
            "first [[notifications.webhooks]] of kind slack.",
        ),
    )


@dataclass(frozen=True, slots=True)
class HistoryConfig:
    enabled: bool = field(
        default=True,
        metadata=setting(
            "bool",
            "Keep a local metrics store (one SQLite file per target under console.state_dir).",
        ),
    )
    sample_interval: float = field(
        default=60.0,
        metadata=setting(
            "duration",
            "One sample of the snapshot figures this often (connections, cache, transactions, "
            "writes).",
            at_most="1d",
            at_least=(1.0, "1s"),
        ),
    )
    size_interval: float = field(
        default=600.0,
        metadata=setting(
            "duration",
            "Database and table sizes, per-table write counters and statement totals: sampled "
            "this often.",
            above_zero=True,
            at_most="7d",
        ),
    )
    raw_retention: float = field(
        default=86400.0,
        metadata=setting(
            "duration",
            "Samples are kept as taken for this long, then only as hourly aggregates.",
            above_zero=True,
        ),
    )
    hourly_retention: float = field(
        default=90 * 86400.0,
        metadata=setting(
            "duration",
            "Hourly aggregates are kept this long, then only as daily ones.",
            above_zero=True,
        ),
    )
    daily_retention: float = field(
        default=730 * 86400.0,
        metadata=setting("duration", "Daily aggregates are kept this long.", above_zero=True),
    )
    max_size_mb: float = field(
        default=200.0,
        metadata=setting(
            "number",
            "Size cap of one store file: the oldest data goes first when it is exceeded.",
            at_least=(1.0, "1 (MB)"),
        ),
    )


def parse_listen(value: str) -> tuple[str, int] | None:
    """``HOST:PORT`` (``[::1]:9187`` for IPv6) -> (host, port); "off" -> None. ValueError says
    what is wrong."""
    text = value.strip()
    if text.lower() == "off":
        return None
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        raise ValueError(f'{value!r} is not HOST:PORT (e.g. "127.0.0.1:9187"), nor "off"')
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r}: the port must be a number between 1 and 65535")
    if any(c.isspace() or c in "/@" for c in host):
        raise ValueError(f"{value!r}: not a host name or address")
    return host, int(port)


def _listen_problem(value: str) -> Problem:
    try:
        parse_listen(value)
    except ValueError as exc:
        return str(exc)
    return None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class WatchConfig:
    metrics_listen: str = field(
        default="127.0.0.1:9187",
        metadata=setting(
            "str",
            "Where `engflow-tui watch` serves /metrics (Prometheus) and /healthz: HOST:PORT, or "
            '"off". Loopback by default; another address gets a warning (no TLS, no auth).',
            check=_listen_problem,
        ),
    )
    check_interval: float = field(
        default=5.0,
        metadata=setting(
            "duration",
            "How often a console looks for a watcher that alerts for its target, and a standby "
            "watcher tries to take over (the alerting lock).",
            at_most="10m",
            at_least=(1.0, "1s"),
        ),
    )
    heartbeat_interval: float = field(
        default=60.0,
        metadata=setting(
            "duration",
            "How often the watcher re-sends its always-firing heartbeat alert to the "
            "Alertmanager webhooks (it lapses after three intervals: a dead watcher pages).",
            at_most="1h",
            at_least=(1.0, "1s"),
        ),
    )
    max_subjects: int = field(
        default=500,
        metadata=setting(
            "int",
            "At most this many subjects (tables, alert subjects) per metric and target in "
            "/metrics; what is cut is counted (engflow_subjects_cut).",
        ),
    )
    state_dir: str = field(
        default_factory=lambda: f"{state_home()}/engflow-tui/watch",
        metadata=setting(
            "str",
            "The watcher's alert states and history stores (apart from a console's on the same "
            "machine: each keeps its own).",
        ),
    )


@dataclass(frozen=True, slots=True)
class CapacityConfig:
    storage_limit: float | None = field(
        default=None,
        metadata=setting(
            "size",
            'The database\'s storage limit in bytes ("8GB", "500MB"): Trends projects when it is '
            "reached.",
        ),
    )


@dataclass(frozen=True, slots=True)
class DiagnoseConfig:
    exclude: tuple[str, ...] = field(
        default=(),
        metadata=setting(
            "names",
            'Findings to leave out: a check id ("maintenance.unused_indexes") or check id:key '
            '("security.function_search_path:public.my_fn"); the key is shown with each finding.',
            allow_empty=True,
            check=_exclude_problem,
        ),
    )
    statement_timeout: float = field(
        default=10.0,
        metadata=setting(
            "duration",
            "Each diagnostic query is cancelled after this long (the check then says so).",
            above_zero=True,
            at_most="1h",
        ),
    )
    orphan_count_timeout: float = field(
        default=5.0,
        metadata=setting(
            "duration",
            "Counting the orphans of one foreign key stops after this long; the report says the "
            "count was cut short.",
            above_zero=True,
            at_most="1d",
        ),
    )
    orphan_total_timeout: float = field(
        default=60.0,
        metadata=setting(
            "duration",
            "All orphan counts together stop after this long; the relations left are reported as "
            "not counted.",
            above_zero=True,
            at_most="1d",
        ),
    )
    long_running_query: float = field(
        default=300.0,
        metadata=setting(
            "duration",
            "Statements running longer than this are reported by queries.long_running.",
            above_zero=True,
            at_most="30d",
        ),
    )


@dataclass(frozen=True, slots=True)
class SecurityConfig:
    allowed_cidrs: tuple[str, ...] = field(
        default=(),
        metadata=setting(
            "names",
            'Client networks expected to connect (["10.0.0.0/8", "192.0.2.10/32"]); empty: not '
            "checked.",
            allow_empty=True,
            check=_cidrs_problem,
        ),
    )


@dataclass(frozen=True, slots=True)
class IntegrityRelation:
    child: str = field(
        metadata=setting(
            "column",
            'schema.table.column of the referencing column ("public.anexos.projeto_id").',
        )
    )
    parent: str = field(
        metadata=setting("column", 'schema.table.column it must match ("public.projetos.id").')
    )


@dataclass(frozen=True, slots=True)
class IntegrityConfig:
    relations: tuple[IntegrityRelation, ...] = field(
        default=(),
        metadata=setting(
            "tables",
            "[[integrity.relations]] child, parent: relations the schema does not declare as "
            "foreign keys.",
            item=IntegrityRelation,
            not_array="must be an array of tables ([[integrity.relations]])",
            not_table="must be a table with child and parent",
        ),
    )


@dataclass(frozen=True, slots=True)
class BackupsConfig:
    path: str | None = field(
        default=None,
        metadata=setting(
            "str",
            "The directory holding the dumps (pg_dump -Fc); unset: backup.files is not checked.",
        ),
    )
    glob: str = field(
        default="*.dump",
        metadata=setting("str", "Which files of that directory are dumps.", check=_glob_problem),
    )
    max_age: float = field(
        default=93600.0,
        metadata=setting(
            "duration",
            "The newest dump older than this (default 26h: one daily run plus slack) is a warning.",
            above_zero=True,
            at_most="365d",
        ),
    )


@dataclass(frozen=True, slots=True)
class Config:
    console: ConsoleConfig = field(
        default_factory=ConsoleConfig,
        metadata=setting("section", "[console]: polling, timeouts, files.", item=ConsoleConfig),
    )
    thresholds: Thresholds = field(
        default_factory=Thresholds,
        metadata=setting(
            "section",
            "[thresholds]: what the panels, diagnose and the alerts flag.",
            item=Thresholds,
            check=thresholds_problem,
        ),
    )
    actions: ActionsConfig = field(
        default_factory=ActionsConfig,
        metadata=setting("section", "[actions]: their timeouts.", item=ActionsConfig),
    )
    alerts: Mapping[str, Mapping[str, Any]] = field(
        default_factory=dict,
        metadata=setting(
            "alert_overrides",
            "[alerts.RULE] overrides of the shipped rules (threshold, for, clear_threshold, ...).",
        ),
    )
    notifications: NotificationsConfig = field(
        default_factory=NotificationsConfig,
        metadata=setting(
            "section", "[notifications]: bell and webhooks.", item=NotificationsConfig
        ),
    )
    targets: Mapping[str, TargetConfig] = field(
        default_factory=dict,
        metadata=setting(
            "named_tables",
            "[targets.NAME]: the databases the console watches.",
            item=TargetConfig,
            not_table="must be a table ([targets.NAME])",
            missing='a target needs a name: [targets.production], not [targets.""]',
        ),
    )
    escalation: EscalationConfig = field(
        default_factory=EscalationConfig,
        metadata=setting(
            "section",
            "[escalation]: the runbook's contact levels and escalation matrix.",
            item=EscalationConfig,
            check=_escalation_problem,
        ),
    )
    incidents: IncidentsConfig = field(
        default_factory=IncidentsConfig,
        metadata=setting(
            "section",
            "[incidents]: incident mode (status-update cadence, files, templates).",
            item=IncidentsConfig,
        ),
    )
    history: HistoryConfig = field(
        default_factory=HistoryConfig,
        metadata=setting("section", "[history]: the local metrics store.", item=HistoryConfig),
    )
    watch: WatchConfig = field(
        default_factory=WatchConfig,
        metadata=setting(
            "section", "[watch]: engflow-tui watch, the headless watcher.", item=WatchConfig
        ),
    )
    capacity: CapacityConfig = field(
        default_factory=CapacityConfig,
        metadata=setting("section", "[capacity]: Trends' projections.", item=CapacityConfig),
    )
    diagnose: DiagnoseConfig = field(
        default_factory=DiagnoseConfig,
        metadata=setting("section", "[diagnose]: engflow-tui diagnose.", item=DiagnoseConfig),
    )
    security: SecurityConfig = field(
        default_factory=SecurityConfig,
        metadata=setting("section", "[security]: what diagnose expects.", item=SecurityConfig),
    )
    integrity: IntegrityConfig = field(
        default_factory=IntegrityConfig,
        metadata=setting(
            "section", "[integrity]: relations without a foreign key.", item=IntegrityConfig
        ),
    )
    backups: BackupsConfig = field(
        default_factory=BackupsConfig,
        metadata=setting("section", "[backups]: where the dumps are.", item=BackupsConfig),
    )
    path: Path | None = None
    """The file this was read from, if any (not a setting)."""

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


_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_COLUMN_PATH = re.compile(r"^[^.\s]+\.[^.\s]+\.[^.\s]+$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SEVERITY_KEYS = ("1", "2", "3", "4")


def convert_value(s: Setting, value: Any) -> Any:
    """One value of a scalar kind, within its bounds; ValueError says what is wrong."""
    kind = s.kind
    if kind in ("duration", "duration_or_next_business_day", "per_severity"):  # (one severity's)
        if kind == "duration_or_next_business_day" and value == "next business day":
            return None
        seconds = parse_bounded(value, above_zero=s.above_zero, at_most=s.at_most)
        if s.at_least is not None and seconds < s.at_least[0]:
            raise ValueError(f"must be at least {s.at_least[1]}")
        return seconds
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"must be true or false, not {value!r}")
        return value
    if kind in ("str", "dsn"):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"must be a non-empty string, not {value!r}")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"must be a non-negative number, not {value!r}")
        if s.at_least is not None and value < s.at_least[0]:
            raise ValueError(f"must be at least {s.at_least[1]}")
        return float(value)
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"must be a positive whole number, not {value!r}")
        return value
    if kind == "names":
        if s.allow_empty and value == []:
            return ()
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
        return value.rstrip("/") if s.strip_slash else value
    if kind == "envname":
        if not isinstance(value, str) or not _ENV_NAME.match(value):
            raise ValueError(f"must be the NAME of an environment variable, not {value!r}")
        return value
    if kind == "size":
        return parse_size(value)
    if kind == "choice":
        if value not in s.choices or isinstance(value, bool):
            raise ValueError(f"must be {or_list(s.choices)}, not {value!r}")
        return value
    if kind == "clock":
        if not isinstance(value, str) or not _CLOCK.match(value):
            raise ValueError(f'must be a time "HH:MM", not {value!r}')
        return value
    if kind == "hours":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or abs(value) > 14:
            raise ValueError(f"must be a number of hours between -14 and 14, not {value!r}")
        return float(value)
    if kind == "column":
        if not isinstance(value, str) or not _COLUMN_PATH.match(value):
            raise ValueError(
                f"must be schema.table.column (e.g. 'public.anexos.projeto_id'), not {value!r}"
            )
        return value
    raise AssertionError(f"{kind} is not a scalar kind")


def setting_at(key: str) -> Setting:
    """The setting of a dotted key ("console.refresh_interval", "targets.prod.dsn",
    "escalation.matrix[0].initial_response"); KeyError when the schema has none."""
    cls: type | None = Config
    found: Setting | None = None
    parts = re.sub(r"\[\d+\]", "", key).split(".")
    index = 0
    while index < len(parts):
        if cls is None:
            raise KeyError(key)
        by_name = {f.name: s for f, s in file_fields(cls)}
        found = by_name[parts[index]]
        cls = found.item
        index += 2 if found.kind == "named_tables" else 1
    if found is None:
        raise KeyError(key)
    return found


def check_value(key: str, value: object) -> Any:
    """``value`` converted as the setting ``key`` (a scalar) says, within its bounds; for the
    command line's copies of settings (``--refresh``). ValueError says what is wrong."""
    return convert_value(setting_at(key), value)


class _Reader:
    """Reads TOML tables into the schema's dataclasses, naming file and key on any error."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(message, self.path, key)

    def table(self, value: Any, key: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table ([{key}]), not {type(value).__name__}")
        return value

    def check_keys(self, data: Mapping[str, Any], allowed: set[str], prefix: str) -> None:
        for key in data:
            if key not in allowed:
                raise self.fail(f"{prefix}{key}", f"unknown key{_did_you_mean(key, allowed)}")

    def section(self, cls: type, raw: Mapping[str, Any], prefix: str, **fixed: Any) -> Any:
        """One table -> ``cls``: unknown keys refused, each key converted as its field says."""
        self.check_keys(raw, file_keys(cls), prefix)
        by_name = {f.name: f for f, _ in file_fields(cls)}
        values = {k: self.convert(prefix + k, v, by_name[k]) for k, v in raw.items()}
        return cls(**fixed, **values)

    def item(self, cls: type, raw: Mapping[str, Any], where: str, merge: bool) -> dict[str, Any]:
        """One table of an array: its keys in the schema's order, required ones present
        (unless ``merge``: the item only changes a default one)."""
        self.check_keys(raw, file_keys(cls), where + ".")
        values = {}
        for f, s in file_fields(cls):
            key = f"{where}.{f.name}"
            if f.name in raw:
                values[f.name] = self.convert(key, raw[f.name], f)
            elif is_required(f) and not merge:
                if s.missing:
                    raise self.fail(key, s.missing)
                self.convert(key, None, f)  # says what it must be, "not None"
        return values

    def convert(self, key: str, value: Any, f: Field[Any]) -> Any:
        s = setting_of(f)
        assert s is not None, key
        result = self._convert(key, value, s, f)
        if s.check is not None and (problem := s.check(result)):
            sub, message = problem if isinstance(problem, tuple) else ("", problem)
            raise self.fail(f"{key}.{sub}" if sub else key, message)
        return result

    def _convert(self, key: str, value: Any, s: Setting, f: Field[Any]) -> Any:
        if s.kind == "section":
            assert s.item is not None
            return self.section(s.item, self.table(value, key), key + ".")
        if s.kind == "tables":
            return self._tables(key, value, s, f)
        if s.kind == "named_tables":
            assert s.item is not None
            named = {}
            for name, raw in self.table(value, key).items():
                if not name.strip():
                    raise self.fail(f'{key}."{name}"', s.missing or "a table needs a name")
                if not isinstance(raw, dict):
                    raise self.fail(f"{key}.{name}", s.not_table)
                named[name] = self.section(s.item, raw, f"{key}.{name}.", name=name)
            return named
        if s.kind == "per_severity":
            if not isinstance(value, dict):
                raise self.fail(key, 'must be a table: {1 = "15m", 2 = "30m", ...}')
            merged = dict(default_of(f))
            for severity, each in value.items():
                if severity not in _SEVERITY_KEYS:
                    raise self.fail(f"{key}.{severity}", "must be a severity: 1, 2, 3 or 4")
                merged[int(severity)] = self._scalar(f"{key}.{severity}", each, s)
            return merged
        if s.kind == "alert_overrides":
            from .alerts.rules import knob_problem, load_rules

            overrides = dict(self.table(value, key))
            if problem := knob_problem(overrides, self.path):
                raise problem
            load_rules(overrides, self.path)  # validates every override (file + key in the message)
            return overrides
        return self._scalar(key, value, s)

    def _scalar(self, key: str, value: Any, s: Setting) -> Any:
        try:
            return convert_value(s, value)
        except ValueError as exc:
            raise self.fail(key, str(exc)) from None

    def _tables(self, key: str, value: Any, s: Setting, f: Field[Any]) -> tuple[Any, ...]:
        assert s.item is not None
        if not isinstance(value, list) or (s.non_empty and not value):
            raise self.fail(key, s.not_array)
        merged = {getattr(d, s.merge_by): d for d in default_of(f)} if s.merge_by else {}
        items = []
        for index, raw in enumerate(value):
            where = f"{key}[{index}]"
            if not isinstance(raw, dict):
                raise self.fail(where, s.not_table)
            values = self.item(s.item, raw, where, merge=s.merge_by is not None)
            if s.merge_by is None:
                items.append(s.item(**values))
                continue
            if s.merge_by not in values:  # says what the key must be, "not None"
                self.convert(f"{where}.{s.merge_by}", None, _field(s.item, s.merge_by))
            old = merged[values[s.merge_by]]
            merged[values[s.merge_by]] = replace(old, **values)
        return tuple(merged.values()) if s.merge_by else tuple(items)


def _field(cls: type, name: str) -> Field[Any]:
    return next(f for f in fields(cls) if f.name == name)


def parse_config(data: Mapping[str, Any], path: str = "<config>") -> Config:
    """Build a Config from parsed TOML, validating every key as the schema says."""
    reader = _Reader(path)
    if problem := _nesting_problem(data):
        raise ConfigError(problem, path)
    config: Config = reader.section(Config, data, "")
    default_target = config.console.default_target
    if default_target is not None and default_target not in config.targets:
        raise reader.fail(
            "console.default_target",
            f"names no target{_did_you_mean(default_target, config.targets)}",
        )
    return config


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
