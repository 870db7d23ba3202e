"""Single-risk detectors: pure, per-key state in and out, JSON-serializable state.

(reading → **signal** → alert → order → notification.)
"""

from streams.core.detectors.threshold import Threshold

__all__ = ["Threshold"]
