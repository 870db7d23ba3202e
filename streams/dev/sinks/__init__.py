"""Stub notification providers (SMS now, voice later) run by ``yujing sinks``.

After the last hop of the flow (... → order → notification → **provider**):
small HTTP services shaped like a real provider's API, which record what they
accept so tests and the demo can read it back.
"""
