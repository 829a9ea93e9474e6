"""The systemd unit in docs/ (issue 19): hardened, and clean for `systemd-analyze verify`
(any warning fails, an unknown key included) where systemd-analyze is installed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[2] / "docs" / "engflow-tui-watch.service"


def test_the_unit_is_hardened_and_stops_and_reloads_the_watcher() -> None:
    text = UNIT.read_text(encoding="utf-8")
    for line in (
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "StateDirectory=engflow-tui",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "KillSignal=SIGTERM",
    ):
        assert line in text.splitlines(), line
    assert " watch --config " in text


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed"
)
def test_systemd_analyze_verify_finds_nothing(tmp_path) -> None:
    engflow = Path(sys.executable).with_name("engflow-tui")
    if not engflow.exists():
        pytest.skip("the engflow-tui script is not installed beside this Python")
    unit = tmp_path / "engflow-tui-watch.service"
    unit.write_text(
        UNIT.read_text(encoding="utf-8").replace("/opt/engflow-tui/bin/engflow-tui", str(engflow)),
        encoding="utf-8",
    )
    out = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stderr.strip() == "" and out.stdout.strip() == "", out.stdout + out.stderr
