"""server commands."""
