"""order → **notification**: what to send, retry policy."""
