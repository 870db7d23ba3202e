"""The Numenta Anomaly Benchmark: scorer (``scorer``) and corpus location."""
