"""``engflow-tui watch``: the runbook's alerts around the clock, headless (service.py), with a
Prometheus exposition (exposition.py) and /healthz (http.py). No Textual."""
