"""Incident mode: incident state, timers, timeline, templates, report. Must not import Textual."""
