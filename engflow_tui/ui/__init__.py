"""The UI shell: the app's wiring (app.py), the palette (commands.py), messages, the flows that
walk an action, a checklist or an incident through its screens (flows/), the replay app, and
styles. With screens/ and widgets/, the only places that import Textual (a contract of
pyproject.toml's [tool.importlinter], checked in the suite)."""
