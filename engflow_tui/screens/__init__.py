"""Screens: one per module. They receive records; they never speak SQL."""
