"""Command-line tools around the pipeline: simulate, replay, tail, map, report."""
