"""The console's flows: one per kind of work (actions, checklists, incidents), each walking its
service (runner, checklist session, incident log) through the screens it needs."""
