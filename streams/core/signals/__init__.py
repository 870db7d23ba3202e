"""reading → **signal**: detectors, triggers, the re-check judgement."""
