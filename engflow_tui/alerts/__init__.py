"""Alert rules and their evaluation: pure functions of snapshots and thresholds. No Textual."""
