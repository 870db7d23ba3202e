"""alert → **order**: routing, lifecycle, SLA deadlines."""
