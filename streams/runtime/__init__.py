"""The worker at run time: the Faust app, its consumer, wiring and agents."""
