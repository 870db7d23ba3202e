"""``yujing sinks``: the stub SMS and voice providers, for the demo, the tests and a district day.

Development infrastructure beside the last hop of the flow (notification →
**provider**): provider-shaped HTTP services that honour ``Idempotency-Key``, with
injected latency, failures (some after accepting) and call outcomes
(:mod:`streams.dev.sinks.provider`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from typing import Any

from streams.core.shared.config import ConfigError


def add_sinks_command(sub: Any) -> None:
    s = sub.add_parser("sinks", help="run the SMS and voice stub providers")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--sms-port", type=int, help="default: the port of $YUJING_SMS_URL (8701)")
    s.add_argument("--sms-latency-ms", type=float, default=0.0)
    s.add_argument("--sms-failure-rate", type=float, default=0.0, help="0..1 of sends answered 503")
    s.add_argument("--voice-port", type=int, help="default: the port of $YUJING_VOICE_URL (8702)")
    s.add_argument("--voice-latency-ms", type=float, default=0.0)
    s.add_argument("--voice-failure-rate", type=float, default=0.0)
    s.add_argument("--voice-call-ms", type=float, default=300.0, help="how long a call lasts")
    s.add_argument(
        "--voice-outcomes",
        default="handled=0.7,needs_help=0.2,no_answer=0.1",
        help="weights of call outcomes",
    )
    s.add_argument(
        "--voice-answered-by",
        choices=("stub", "callee"),
        default="stub",
        help="who decides a call's outcome: the stub (--voice-outcomes), or the person called "
        "(POST /v1/calls/ID/answer while it rings --voice-call-ms; else no_answer)",
    )
    s.add_argument(
        "--lost-response-rate",
        type=float,
        default=0.5,
        help="0..1 of injected failures that happen after the provider accepted",
    )
    s.add_argument("--seed", type=int, default=None, help="seed for injected failures")
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from streams.dev.sinks.provider import ProviderConfig, StubProvider, VoiceStub, serve

    if args.sms_port is None or args.voice_port is None:
        from streams.runtime.settings import Settings

        settings = Settings.from_env()  # the worker's YUJING_SMS_URL / YUJING_VOICE_URL
        args.sms_port = args.sms_port or _port_of(settings.sms_url, "YUJING_SMS_URL")
        args.voice_port = args.voice_port or _port_of(settings.voice_url, "YUJING_VOICE_URL")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        outcomes = {
            name.strip(): float(weight)
            for name, weight in (part.split("=", 1) for part in args.voice_outcomes.split(","))
        }
        sms = StubProvider(
            ProviderConfig(
                channel="sms",
                latency_ms=args.sms_latency_ms,
                failure_rate=args.sms_failure_rate,
                lost_response_rate=args.lost_response_rate,
                seed=args.seed,
            )
        )
        voice = VoiceStub(
            ProviderConfig(
                channel="voice",
                latency_ms=args.voice_latency_ms,
                failure_rate=args.voice_failure_rate,
                lost_response_rate=args.lost_response_rate,
                seed=args.seed,
                call_ms=args.voice_call_ms,
                outcomes=outcomes,
                answered_by=args.voice_answered_by,
            )
        )
    except ValueError as err:
        raise ConfigError(f"sinks: {err}") from None
    from streams.runtime.reach import require_free_port

    require_free_port(args.host, args.sms_port, "the SMS stub (--sms-port)")
    require_free_port(args.host, args.voice_port, "the voice stub (--voice-port)")
    print(
        f"yujing sinks: SMS stub on http://{args.host}:{args.sms_port}, "
        f"voice stub on http://{args.host}:{args.voice_port}",
        flush=True,
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve({args.sms_port: sms, args.voice_port: voice}, host=args.host))
    return 0


def _port_of(url: str, variable: str) -> int:
    """The port of a provider URL, so the stubs listen where the worker will call them.

    >>> _port_of("http://127.0.0.1:8801/", "YUJING_SMS_URL")
    8801
    """
    import urllib.parse

    try:
        port = urllib.parse.urlsplit(url).port
    except ValueError as err:
        raise ConfigError(f"{variable}={url!r}: {err}") from None
    if port is None:
        raise ConfigError(f"{variable}={url!r}: give the port, e.g. http://127.0.0.1:8701")
    return port
