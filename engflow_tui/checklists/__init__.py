"""Guided checklists: the runbook's lists as data (*.toml), their loader, the verifiers of auto
items, the crash-safe run store and the exports. Must not import Textual."""
