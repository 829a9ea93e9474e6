"""Collectors: probes -> model records. They never raise: a dead probe is data. No Textual."""
