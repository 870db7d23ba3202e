"""signal → **alert**: single-risk, compound and systemic rules."""
