"""EngFlow Ops Console: a terminal console that makes the EngFlow operations runbook live."""

__version__ = "0.2.0"
