"""Command line: (default) console | demo | diagnose | checklist | config init/check/show |
report | record | replay | watch | rules export.

Bad input ends with one clear line on stderr and exit code 2; never a traceback.
Must not import Textual at module level (diagnose and config stay light).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from .. import __version__, startup_gc
from ..config import (
    Config,
    TargetConfig,
    check_target_environment,
    check_value,
    default_config_path,
    find_config_path,
    load_config,
    starter_config_text,
)
from ..dsn import dsn_has_password, dsn_target_name, pg_environment_present, validate_dsn
from ..errors import ConfigError, EngflowError

NO_TARGET_MESSAGE = (
    "engflow-tui: no database to watch: no config file, no --dsn, no PG* environment variables.\n"
    "Try `engflow-tui demo` (needs nothing), `engflow-tui --dsn postgresql://USER@HOST:5432/DB`, "
    "or `engflow-tui config init` to write a config."
)


def _target_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--config",
        metavar="PATH",
        default=default,
        help="config file (default: $ENGFLOW_CONFIG, then ~/.config/engflow-tui/config.toml)",
    )
    parser.add_argument(
        "--target",
        metavar="NAME",
        default=default,
        help="which [targets.NAME] of the config to open",
    )
    parser.add_argument(
        "--dsn",
        metavar="DSN",
        default=default,
        help="connect to this database (URI or key=value); overrides the config's targets",
    )
    parser.add_argument(
        "--refresh",
        metavar="DURATION",
        default=default,
        help="refresh interval, e.g. 2s (overrides console.refresh_interval)",
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="refuse every action that changes the database",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="engflow-tui",
        description="EngFlow Ops Console: a live, keyboard-driven runbook for PostgreSQL / Supabase.",
    )
    parser.add_argument("--version", action="version", version=f"engflow-tui {__version__}")
    _target_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="start an embedded PostgreSQL with a live EngFlow workload and open the console on it",
    )
    demo.add_argument(
        "--keep", metavar="DIR", help="keep the demo server's data in DIR (reused on the next run)"
    )
    demo.add_argument(
        "--no-workload", action="store_true", help="do not run the synthetic workload"
    )
    demo.add_argument(
        "--refresh", metavar="DURATION", default=None, help="refresh interval, e.g. 1s"
    )
    demo.add_argument(
        "--no-watcher",
        action="store_true",
        help="do not start `engflow-tui watch` beside the console (the console then notifies)",
    )

    diag = sub.add_parser(
        "diagnose",
        help="run the probes once and print a report (exit 0 ok, 1 warning, 2 critical, 3 unknown)",
    )
    _target_options(diag, suppress=True)
    diag.add_argument("--quick", action="store_true", help="only the cheap checks")
    diag.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    diag.add_argument(
        "--fail-on",
        choices=("warning", "critical"),
        default=None,
        help="for CI: exit 0 unless the report reaches this status (then 1 or 2; 3 = unreachable)",
    )

    ck = sub.add_parser("checklist", help="list, run (auto items) or export the runbook checklists")
    ck_sub = ck.add_subparsers(dest="checklist_command", metavar="ACTION", required=True)
    ck_list = ck_sub.add_parser("list", help="every checklist (shipped and yours)")
    ck_list.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS)
    ck_run = ck_sub.add_parser(
        "run",
        help="verify a checklist's auto items once (exit 0 if all passed, 1 otherwise)",
    )
    _target_options(ck_run, suppress=True)
    ck_run.add_argument("name", help="the checklist id (see `checklist list`)")
    ck_run.add_argument(
        "--auto", action="store_true", help="evaluate the auto items non-interactively (required)"
    )
    ck_run.add_argument("--format", choices=("json", "markdown"), default="markdown")
    ck_runs = ck_sub.add_parser("runs", help="the run history, newest first, with run ids")
    ck_runs.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS)
    ck_export = ck_sub.add_parser("export", help="print one run as Markdown or JSON")
    ck_export.add_argument("run_id")
    ck_export.add_argument("--format", choices=("markdown", "json"), default="markdown")
    ck_export.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS)
    _history_parsers(sub)
    _watch_parsers(sub)

    cfg = sub.add_parser("config", help="write, check or show a config file")
    cfg_sub = cfg.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    init = cfg_sub.add_parser(
        "init", help="write a starter config (default: ~/.config/engflow-tui/config.toml)"
    )
    init.add_argument("path", nargs="?", help="where to write it")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    check = cfg_sub.add_parser(
        "check", help="validate a config file (exit 0 when the console can run it, else 2)"
    )
    check.add_argument(
        "path", nargs="?", help="the file (default: --config, else the one the console would read)"
    )
    check.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS)
    show = cfg_sub.add_parser("show", help="print the effective config, defaults filled in (TOML)")
    show.add_argument("path", nargs="?")
    show.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS)
    return parser


def _history_parsers(sub: Any) -> None:
    """report / record / replay (issue 9: history, trends and capacity)."""
    report = sub.add_parser(
        "report", help="print a report from the history store (weekly performance report)"
    )
    _target_options(report, suppress=True)
    report.add_argument("kind", choices=("weekly",), help="which report")
    report.add_argument("--format", choices=("markdown", "json"), default="markdown")

    record = sub.add_parser(
        "record",
        help="headless: store full snapshots at the refresh cadence (for cron or a tmux pane)",
    )
    _target_options(record, suppress=True)
    record.add_argument("--output", "-o", metavar="FILE", help="the recording file to write")
    record.add_argument(
        "--duration", metavar="DURATION", help="stop after this long, e.g. 1h (default: Ctrl+C)"
    )

    replay = sub.add_parser(
        "replay", help="open the console on a recording, read-only, with a time cursor"
    )
    replay.add_argument("file", help="a file written by `engflow-tui record`")
    replay.add_argument(
        "--speed", type=float, default=1.0, help="playback speed when playing (space)"
    )
    replay.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS)


def _watch_parsers(sub: Any) -> None:
    """watch / rules export (issue 19: the alerts around the clock, Prometheus)."""
    watch = sub.add_parser(
        "watch",
        help="headless: watch every target of the config, alert and notify, serve /metrics",
    )
    watch.add_argument(
        "--config",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="config file (default: $ENGFLOW_CONFIG, then ~/.config/engflow-tui/config.toml)",
    )
    watch.add_argument(
        "--target",
        metavar="NAME",
        action="append",
        default=argparse.SUPPRESS,
        help="watch only this [targets.NAME] (repeat for several; default: every target)",
    )
    watch.add_argument(
        "--dsn", metavar="DSN", default=argparse.SUPPRESS, help="watch this one database"
    )
    watch.add_argument(
        "--refresh",
        metavar="DURATION",
        default=argparse.SUPPRESS,
        help="refresh interval, e.g. 2s (overrides console.refresh_interval)",
    )
    watch.add_argument(
        "--metrics-listen",
        metavar="HOST:PORT",
        default=None,
        help='where /metrics and /healthz are served (default: [watch] metrics_listen; "off")',
    )
    rules = sub.add_parser("rules", help="the runbook's alert rules, for other tools")
    rules_sub = rules.add_subparsers(dest="rules_command", metavar="ACTION", required=True)
    export = rules_sub.add_parser(
        "export", help="print the rules (with the config's overrides) as Prometheus alerting rules"
    )
    export.add_argument("--format", choices=("prometheus",), default="prometheus")
    export.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS)


def _watch_config(args: argparse.Namespace) -> Config:
    """The config `watch` runs (and re-reads on SIGHUP): its targets are the ones to watch."""
    from ..config import parse_listen

    path = find_config_path(getattr(args, "config", None))
    config = load_config(path) if path else Config()
    console: dict[str, object] = {}
    refresh = getattr(args, "refresh", None)
    if refresh:
        console["refresh_interval"] = _refresh(refresh)
    if console:
        config = replace(config, console=replace(config.console, **console))  # type: ignore[arg-type]
    if args.metrics_listen is not None:
        try:
            parse_listen(args.metrics_listen)
        except ValueError as exc:
            raise ConfigError(str(exc), None, "--metrics-listen") from None
        config = replace(config, watch=replace(config.watch, metrics_listen=args.metrics_listen))
    names: list[str] = getattr(args, "target", None) or []
    dsn = getattr(args, "dsn", None)
    if dsn:
        if len(names) > 1:
            raise ConfigError(
                "--dsn watches one database: give at most one --target", None, "--dsn"
            )
        one = argparse.Namespace(**{**vars(args), "target": names[0] if names else None})
        config, target = resolve(one)
        assert target is not None
        return replace(config, targets={target.name: target})
    if path is None:
        if names:
            raise ConfigError(
                f"--target given but no config file was found (looked at {default_config_path()})"
            )
        target = _environment_target()
        return replace(config, targets={target.name: target})
    if not config.targets:
        raise ConfigError("no [targets.NAME] section: nothing to watch", str(path))
    chosen = [config.target(name) for name in dict.fromkeys(names)] or list(config.targets.values())
    for target in chosen:
        check_target_environment(target, str(path))
    return replace(config, targets={t.name: t for t in chosen})


def run_watch(args: argparse.Namespace) -> int:
    from ..watch.service import Watcher

    config = _watch_config(args)

    async def main() -> int:
        return await Watcher(config, load=lambda: _watch_config(args)).run()

    return asyncio.run(main())


def run_rules(args: argparse.Namespace) -> int:
    from ..alerts.prometheus import export

    path = find_config_path(getattr(args, "config", None))
    config = load_config(path) if path else Config()
    sys.stdout.write(export(config))
    return 0


def _run_history_command(args: argparse.Namespace) -> int:
    from . import history as commands

    if args.command == "replay":
        path = find_config_path(getattr(args, "config", None))
        config = load_config(path) if path else Config()
        return commands.run_replay(config, args.file, args.speed)
    config, target = resolve(args)
    if target is None:
        raise ConfigError(
            "several targets and no console.default_target: choose one with --target",
            str(config.path),
        )
    if args.command == "report":
        return commands.run_report(config, target, args.kind, args.format)
    return commands.run_record(config, target, args)


# ---------------------------------------------------------------------------------------------
# Resolving what to connect to


def _validate_dsn(dsn: str, where: str) -> None:
    problem = validate_dsn(dsn)
    if problem:
        raise ConfigError(f"DSN {problem}", None, where)


def _refresh(value: str) -> float:
    """--refresh: console.refresh_interval's kind and bounds, from the schema."""
    try:
        seconds: float = check_value("console.refresh_interval", value)
    except ValueError as exc:
        raise ConfigError(str(exc), None, "--refresh") from None
    return seconds


def resolve(args: argparse.Namespace) -> tuple[Config, TargetConfig | None]:
    """The config and the target to open (None: let the console ask)."""
    path = find_config_path(getattr(args, "config", None))
    config = load_config(path) if path else Config()
    overrides: dict[str, object] = {}
    refresh = getattr(args, "refresh", None)
    if refresh:
        overrides["refresh_interval"] = _refresh(refresh)
    if getattr(args, "read_only", False):
        overrides["read_only"] = True
    if overrides:
        config = replace(config, console=replace(config.console, **overrides))  # type: ignore[arg-type]

    dsn = getattr(args, "dsn", None)
    target_name = getattr(args, "target", None)
    if dsn:
        _validate_dsn(dsn, "--dsn")
        base = config.targets.get(target_name or "") if target_name else None
        target = (
            replace(base, dsn=dsn)
            if base
            else TargetConfig(name=target_name or dsn_target_name(dsn), dsn=dsn)
        )
        return replace(config, targets={**config.targets, target.name: target}), target
    if path is not None:
        if (
            target_name is None
            and len(config.targets) > 1
            and config.console.default_target is None
        ):
            for t in config.targets.values():
                check_target_environment(t, str(path))
            return config, None
        target = config.target(target_name)
        check_target_environment(target, str(path))
        return config, target
    if target_name:
        raise ConfigError(
            f"--target {target_name} given but no config file was found (looked at {default_config_path()})"
        )
    target = _environment_target()
    return replace(config, targets={target.name: target}), target


def _environment_target() -> TargetConfig:
    """The target the PG* variables or DATABASE_URL name (_NoTarget when there are none)."""
    if not pg_environment_present():
        raise _NoTarget()
    url = os.environ.get("DATABASE_URL")
    if url:
        _validate_dsn(url, "DATABASE_URL")
    return TargetConfig(name="env", dsn=url or None)


class _NoTarget(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Commands


def run_console(config: Config, target: TargetConfig | None) -> int:
    from ..ui.console import build_console

    app = build_console(config, target)
    app.run()
    return app.return_code or 0


def run_diagnose(args: argparse.Namespace) -> int:
    from ..diagnose import RENDERERS

    config, target = resolve(args)
    if target is None:
        raise ConfigError(
            "several targets and no console.default_target: choose one with --target",
            str(config.path),
        )

    async def once() -> int:
        from ..diagnostics import run_diagnosis

        report = await run_diagnosis(config, target, quick=args.quick)
        print(RENDERERS[args.format](report))
        return report.exit_code_failing_on(args.fail_on)

    return asyncio.run(once())


def run_checklist(args: argparse.Namespace) -> int:
    from ..checklists.export import auto_status, render_json, render_markdown
    from ..checklists.loader import load_catalog, user_checklist_dir
    from ..checklists.run import RunStore

    path = find_config_path(getattr(args, "config", None))
    base = load_config(path) if path else Config()
    store = RunStore.for_state_dir(base.console.state_dir)
    command = args.checklist_command
    if command == "export":
        try:
            run = store.load(args.run_id)
        except (KeyError, FileNotFoundError):
            raise ConfigError(
                f"no checklist run {args.run_id!r} (see `engflow-tui checklist runs`)"
            ) from None
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"checklist run {args.run_id} is unreadable: {exc}") from None
        print(render_json(run) if args.format == "json" else render_markdown(run), end="")
        return 0
    if command == "runs":
        runs = store.all()
        for problem in store.problems:
            print(f"engflow-tui: {problem}", file=sys.stderr)
        if not runs:
            print(f"no checklist runs yet (kept in {store.directory})")
        for run in runs:
            counts = run.counts()
            state = (
                f"signed by {run.signed_by}"
                if run.signed_by
                else ("auto" if run.mode == "auto" else "UNFINISHED")
            )
            print(
                f"{run.run_id:48} {run.started_at}  {run.target:16} {run.operator:12} {state}  "
                + " ".join(f"{k}={v}" for k, v in counts.items() if v)
            )
        return 0
    catalog = load_catalog(user_checklist_dir(path))
    for problem in catalog.problems:
        print(f"engflow-tui: checklist not loaded: {problem}", file=sys.stderr)
    if command == "list":
        for c in catalog.checklists.values():
            autos = sum(1 for i in c.items if i.verify)
            print(f"{c.id:20} {c.title}  [{len(c.items)} items, {autos} auto]  {c.when}")
        return 0
    checklist = catalog.get(args.name)
    if checklist is None:
        import difflib

        close = difflib.get_close_matches(args.name, list(catalog.checklists), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(
            f"no checklist named {args.name!r}{hint}; see `engflow-tui checklist list`"
        )
    if not args.auto:
        raise ConfigError(
            "interactive runs happen in the console (press C there); "
            f"for a headless check use: engflow-tui checklist run {args.name} --auto"
        )
    config, target = resolve(args)
    if target is None:
        raise ConfigError(
            "several targets and no console.default_target: choose one with --target",
            str(config.path),
        )
    from ..checklists.headless import run_auto

    run, problem = asyncio.run(run_auto(config, target, checklist, store))
    if problem:
        print(f"engflow-tui: {problem}", file=sys.stderr)
    print(render_json(run) if args.format == "json" else render_markdown(run), end="")
    return 0 if auto_status(run) == "pass" else 1


def _config_file_named(args: argparse.Namespace) -> str | None:
    """The file `config ACTION` works on: its PATH or --config (the same file when both)."""
    named = getattr(args, "config", None)
    if args.path and named and Path(args.path).expanduser() != Path(named).expanduser():
        raise ConfigError(
            f"give the file once: --config {named} or `config {args.config_command} {args.path}`"
        )
    return args.path or named


def run_config(args: argparse.Namespace) -> int:
    given = _config_file_named(args)
    if args.config_command == "init":
        path = Path(given).expanduser() if given else default_config_path()
        if path.is_dir():
            raise ConfigError("is a directory: give the path of the file to write", str(path))
        if path.exists() and not args.force:
            raise ConfigError("already exists (use --force to overwrite)", str(path))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(starter_config_text(), encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot write: {exc.strerror or exc}", str(path)) from None
        print(
            f"wrote {path}\nedit [targets.production] (dsn, password_env), then: engflow-tui config check {path}"
        )
        return 0
    found = Path(given).expanduser() if given else find_config_path(None)
    if found is None:
        raise ConfigError(
            f"no config file found (looked at $ENGFLOW_CONFIG and {default_config_path()})"
        )
    path = found
    if not path.exists():
        raise ConfigError("file not found", str(path))
    config = load_config(path)
    if args.config_command == "check":
        from ..config import OTHER_ENV_KEYS, SECRET_ENV_KEYS

        for target in config.targets.values():
            check_target_environment(target, str(path), SECRET_ENV_KEYS + OTHER_ENV_KEYS)
        dsn = getattr(args, "dsn", None)
        if not config.targets and dsn:  # console settings only, the target from --dsn
            _validate_dsn(dsn, "--dsn")
            print(f"{path}: OK (no target in the file; --dsn names {dsn_target_name(dsn)})")
            return 0
        if not config.targets:
            raise ConfigError(
                "no [targets.NAME] section: the console has nothing to open from this file "
                "(add one, see config.toml.example; for a file used with --dsn: "
                "engflow-tui --dsn DSN config check)",
                str(path),
            )
        names = ", ".join(sorted(config.targets))
        print(f"{path}: OK ({len(config.targets)} target(s): {names})")
        return 0
    from ..config_dump import dump_config

    sys.stdout.write(dump_config(config))
    return 0


DSN_PASSWORD_WARNING = (
    "engflow-tui: warning: the --dsn carries a password, which every user of this machine can "
    "read in `ps`; use PGPASSWORD, ~/.pgpass or a target's password_env instead"
)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    dsn = getattr(args, "dsn", None)
    if dsn and validate_dsn(dsn) is None and dsn_has_password(dsn):
        # Once, and only for a DSN that is used: a bad one gets its one line of error instead.
        print(DSN_PASSWORD_WARNING, file=sys.stderr)
    if args.command not in (None, "demo"):
        # Only the console keeps the collector paused until it shows data (startup_gc).
        startup_gc.resume()
    try:
        if args.command == "demo":
            from ..demo import run_demo

            refresh = _refresh(args.refresh) if args.refresh else 2.0
            return run_demo(
                keep=args.keep,
                workload=not args.no_workload,
                refresh=refresh,
                watcher=not args.no_watcher,
            )
        if args.command == "diagnose":
            return run_diagnose(args)
        if args.command == "config":
            return run_config(args)
        if args.command == "checklist":
            return run_checklist(args)
        if args.command in ("report", "record", "replay"):
            return _run_history_command(args)
        if args.command == "watch":
            return run_watch(args)
        if args.command == "rules":
            return run_rules(args)
        config, target = resolve(args)
        return run_console(config, target)
    except _NoTarget:
        print(NO_TARGET_MESSAGE, file=sys.stderr)
        return 2
    except EngflowError as exc:
        print(exc.render(), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        # A file or directory problem the checks above did not foresee: one line, no traceback.
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        print(f"engflow-tui:{where}: {exc.strerror or exc}", file=sys.stderr)
        return 2


def entry_point() -> None:
    code = main()
    _exit_past_a_stuck_terminal_reader(code)
    sys.exit(code)


def _exit_past_a_stuck_terminal_reader(code: int) -> None:
    """Everything is done (the console closed, the demo's server removed), but Textual's
    terminal reader may still run: when the console was told to quit while it was starting
    and its terminal then went away (SIGTERM, then the window closed), nothing stops that
    thread, which spins on the dead terminal and keeps the process alive at full CPU. It
    gets a moment to end, then the process exits without it."""
    import contextlib
    import threading

    for thread in threading.enumerate():
        if thread.name == "textual-input" and not thread.daemon:
            thread.join(timeout=1.0)
            if thread.is_alive():
                for stream in (sys.stdout, sys.stderr):
                    with contextlib.suppress(OSError, ValueError):
                        stream.flush()
                os._exit(code)
