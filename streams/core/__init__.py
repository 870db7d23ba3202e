"""The pure core: detectors, alert rules, routing, SLA and notification planning.

Nothing under ``streams.core`` imports Faust, aiokafka or kafka-python; a test
enforces it. Faust agents in :mod:`streams.runtime.agents` are thin adapters around it.
"""
