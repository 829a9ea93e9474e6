"""Widgets: dumb panels fed with model records, plus pure render functions. No SQL, no I/O."""
