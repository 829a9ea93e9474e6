"""History: the local metrics store (SQLite, one file per target), the sampler that feeds it from
snapshots, trends and capacity projections, user activity vs baseline, the weekly report, and
record / replay of full snapshots.

Must not import Textual.
"""
