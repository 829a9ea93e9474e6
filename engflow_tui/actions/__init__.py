"""Actions: one module per action, each declaring ``ACTION = Action(…)`` (action.py) that
registry.py collects; plan() -> ActionPlan (targets, exact SQL or request); execute() after
confirmation, through runner.py (connections, read-only refusal, audit log, redaction); every
confirmed action, refusal and failure goes to the audit log. No Textual."""
