"""``yujing demo``: the whole flow, live, on a real broker, in one terminal.

Starts (or reuses) the broker, starts the SMS stub and a worker, feeds sample
readings (and one malformed message), then prints the alerts, dispatch
orders, SMS deliveries and dead letters that came out the other end. With
``--console`` the worker stays up afterwards for the operator console
(``/console``) until Ctrl-C.
"""

from __future__ import annotations

import signal
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from schemas import Alert, DeadLetter, DispatchOrder, SensorReading
from schemas.codec import decode
from schemas.registry import ALERTS, DEAD_LETTERS, DISPATCH_ORDERS, READINGS
from streams.core.alerts.locate import locate
from streams.core.alerts.scopes import ScopeEngine
from streams.core.shared.catalogue import load_catalogue
from streams.core.shared.regions import load_regions
from streams.core.signals.detect import Detection, KeyState
from streams.dev.runner import Child, get_json, spawn, wait_http
from streams.runtime.kafka_io import Producer, ensure_topics, read_topic
from streams.runtime.kafka_security import PLAINTEXT, KafkaSecurity


def sample_readings(start: datetime) -> list[SensorReading]:
    """A small district morning: two gas sensors, one underpass, one river gauge, at
    places of the district model (so their alerts roll up to community, town and
    district on the map and the console)."""
    series: dict[tuple[str, str, str, str], list[float]] = {
        ("gas-0001", "gas_lel", "site.liangzhu.c03.restaurant-01", "%LEL"): [
            2,
            3,
            2,
            26,
            31,
            12,
            4,
        ],
        ("gas-0002", "gas_lel", "site.wuchang.c02.restaurant-01", "%LEL"): [1, 1, 2, 1, 2, 1, 1],
        ("wl-0101", "water_depth_cm", "cell.linping.c03.03", "cm"): [5, 9, 18, 29, 33, 20, 12],
        ("rv-0007", "river_level_m", "cell.yuhang.c02.02", "m"): [
            3.9,
            4.1,
            4.3,
            4.6,
            4.7,
            4.4,
            4.1,
        ],
    }
    out = []
    for (sensor, kind, place, unit), values in series.items():
        for i, v in enumerate(values):
            out.append(
                SensorReading(
                    reading_id=f"{sensor}-{i:04d}",
                    sensor_id=sensor,
                    sensor_kind=kind,
                    place_id=place,
                    value=float(v),
                    unit=unit,
                    event_time=start + timedelta(minutes=i),
                )
            )
    return sorted(out, key=lambda r: r.event_time)


def expected_alerts(readings: list[SensorReading]) -> int:
    """How many distinct alerts the pipeline must raise: the same core, run in process.
    Detection per sensor gives the single alerts (one per signal); locating each signal
    and assessing its scopes gives the compound and systemic ones (by alert id: an
    alert's later versions are the same alert)."""
    catalogue = load_catalogue()
    detection = Detection(catalogue)
    index = load_regions()
    engine = ScopeEngine(catalogue, index)
    lateness = catalogue.windows.allowed_lateness_s
    states: dict[str, KeyState] = {}
    clocks: dict[str, Any] = {}
    table: dict[str, Any] = {}
    singles, scoped_ids = 0, set[str]()
    for offset, r in enumerate(readings):
        states[r.sensor_id], signals = detection.on_reading(
            r, states.get(r.sensor_id), r.event_time
        )
        singles += len(signals)
        for sig in signals:
            found = locate(sig, clocks.get(sig.place_id), offset, lateness, index)
            clocks[sig.place_id] = found.clock
            for scoped in found.scoped:
                step = engine.on_signal(scoped, table.get, 0)
                for k, v in step.writes.items():
                    if v is None:
                        table.pop(k, None)
                    else:
                        table[k] = v
                scoped_ids.update(a.alert_id for a in step.alerts)
    return singles + len(scoped_ids)


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S") + "-" + uuid.uuid4().hex[:4]


def naming(run_id: str) -> tuple[str, str]:
    """A run's topic prefix and app id: its topics and group are its own."""
    return f"demo-{run_id}.", f"yujing-demo-{run_id}"


def run(
    bootstrap: str,
    home: Path,
    sms_port: int,
    web_port: int,
    voice_port: int = 8702,
    *,
    security: KafkaSecurity = PLAINTEXT,
    run_id: str | None = None,
    worker_env_file: Path | None = None,
    console: bool = False,
) -> int:
    """The demo on ``bootstrap``; its own clients log in with ``security``, the worker
    with ``worker_env_file`` (``YUJING_ENV_FILE``) when given. With ``console`` the worker
    and the stubs stay up once the demo is done, for the operator console, until
    Ctrl-C or SIGTERM."""
    run_id = run_id or new_run_id()
    prefix, app_id = naming(run_id)
    env = {
        "YUJING_KAFKA_BOOTSTRAP": bootstrap,
        "YUJING_APP_ID": app_id,
        "YUJING_TOPIC_PREFIX": prefix,
        "YUJING_WEB_PORT": str(web_port),
        "YUJING_SMS_URL": f"http://127.0.0.1:{sms_port}",
        "YUJING_VOICE_URL": f"http://127.0.0.1:{voice_port}",
        "YUJING_DATA_DIR": str(home / "demo" / run_id),
    }
    if worker_env_file is not None:
        env["YUJING_ENV_FILE"] = str(worker_env_file)
    logs = home / "demo" / run_id
    print(f"• run {run_id}: topics prefixed {prefix!r}, logs in {logs}")
    ensure_topics(bootstrap, prefix, partitions=2, security=security)
    sink_args = ["sinks", "--sms-port", str(sms_port), "--voice-port", str(voice_port)]
    sinks = spawn("sinks", sink_args, env, logs)
    worker = spawn("worker", ["worker"], env, logs)
    try:
        wait_http(sinks, f"http://127.0.0.1:{sms_port}/healthz", timeout=30)
        print(f"• SMS stub answering on http://127.0.0.1:{sms_port}")
        wait_http(worker, f"http://127.0.0.1:{web_port}/ready", timeout=120)
        print(f"• worker ready; metrics on http://127.0.0.1:{web_port}/metrics")

        readings = sample_readings(datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=7))
        producer = Producer(bootstrap, prefix, security=security)
        producer.send_all(readings)
        producer.send_raw(
            READINGS.name, b'{"sensor_id": "gas-0003", "value": "high"', key=b"gas-0003"
        )
        producer.flush()
        producer.close()
        print(
            f"• fed {len(readings)} readings and 1 malformed message to {prefix}{READINGS.name}\n"
        )

        expected = expected_alerts(readings)
        deliveries = _wait_deliveries(sms_port, expected=expected, timeout=60)
        calls = _wait_calls(voice_port, timeout=30)
        # a "needs help" answer hands the auto-disposal order to a person: one more SMS
        helps = sum(1 for c in calls if c.get("outcome") == "needs_help")
        if helps:
            deliveries = _wait_deliveries(sms_port, expected=expected + helps, timeout=30)
        escalations = [d for d in deliveries if "it is yours now" in d["text"]]
        latest: dict[str, Alert] = {}  # an alert's later versions (more evidence) replace it
        for r in read_topic(bootstrap, prefix + ALERTS.name, min_count=expected, security=security):
            a = decode(Alert, r.value)
            if a.alert_id not in latest or latest[a.alert_id].version < a.version:
                latest[a.alert_id] = a
        alerts = list(latest.values())
        orders = [
            decode(DispatchOrder, r.value)
            for r in read_topic(
                bootstrap, prefix + DISPATCH_ORDERS.name, min_count=expected, security=security
            )
        ]
        dead = [
            decode(DeadLetter, r.value)
            for r in read_topic(
                bootstrap, prefix + DEAD_LETTERS.name, min_count=1, security=security
            )
        ]
        print(f"ALERTS ({len(alerts)}) on {prefix}{ALERTS.name}")
        for a in alerts:
            print(f"  {a.alert_id}  {a.kind.value:<13} v{a.version}  {a.summary}")
        print(f"\nDISPATCH ORDERS ({len(orders)}) on {prefix}{DISPATCH_ORDERS.name}")
        for o in orders:
            due = ", ".join(f"{k} by {v:%m-%d %H:%M}" for k, v in o.deadlines.items())
            print(
                f"  {o.order_id}  {o.sla_class.value:<13} → {o.receiver} ({o.assignee_role}); {due}"
            )
        print(f"\nSMS DELIVERIES ({len(deliveries)}) recorded by the stub")
        for d in deliveries:
            print(f"  {d['message_id']}  to {d['to']}: {d['text'][:110]}…")
        print(f"\nVOICE CALLS ({len(calls)}) recorded by the stub (auto-disposal: reminder + call)")
        for c in calls:
            print(f"  {c.get('call_id')}  to {c.get('to')}: {c.get('status')}, {c.get('outcome')}")
        print(f"\nDEAD LETTERS ({len(dead)}) on {prefix}{DEAD_LETTERS.name}")
        for dl in dead:
            where = f"{dl.source_topic}[{dl.partition}]@{dl.offset}"
            print(f"  {dl.reason.value}: {dl.detail} ({where})")
        if escalations:
            print(f"\n{len(escalations)} of the SMS: the party asked for help on the call,")
            print("  so the order went to a person at once (not at the re-check)")
        first = len(deliveries) - len(escalations)
        ok = (
            first == len(orders) == len(alerts) == expected
            and len(escalations) == helps
            and len(dead) == 1
        )
        print("\n" + ("✓ demo complete" if ok else "✗ demo incomplete: see logs in " + str(logs)))
        if console:
            _hold(worker, f"http://127.0.0.1:{web_port}/console")
        return 0 if ok else 1
    finally:
        worker.stop()
        sinks.stop()


def _hold(worker: Child, url: str) -> None:
    """Keep the demo's worker serving ``url`` until Ctrl-C / SIGTERM or until it exits."""
    from streams.runtime.settings import Settings

    token = " (add #token=<YUJING_WEB_TOKEN> to it)" if Settings.from_env().web_token else ""
    print(f"\n• operator console: {url}{token}", flush=True)
    print("  the worker and the stubs stay up for it; Ctrl-C stops them", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        if worker.proc.poll() is not None:
            print(f"• the worker exited ({worker.proc.returncode})", flush=True)
            return
    print("• stopping the worker and the stubs", flush=True)


def _wait_deliveries(sms_port: int, expected: int, timeout: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    messages: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        _, body = get_json(f"http://127.0.0.1:{sms_port}/v1/messages")
        messages = body["messages"]
        if len(messages) >= expected:
            time.sleep(1.0)  # let stragglers (which would be a bug) show up too
            _, body = get_json(f"http://127.0.0.1:{sms_port}/v1/messages")
            return list(body["messages"])
        time.sleep(0.3)
    return messages


def _wait_calls(voice_port: int, timeout: float) -> list[dict[str, Any]]:
    """The voice stub's calls, once at least one is there and all have ended."""
    deadline = time.monotonic() + timeout
    calls: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        _, body = get_json(f"http://127.0.0.1:{voice_port}/v1/calls")
        calls = body["calls"] if isinstance(body, dict) else []
        if calls and all(c.get("status") == "completed" for c in calls):
            return calls
        time.sleep(0.3)
    return calls


__all__ = ["run", "sample_readings"]


def add_demo_command(sub: Any) -> None:
    d = sub.add_parser("demo", help="broker + sinks + worker, sample readings, results printed")
    # default: the ports of YUJING_SMS_URL, YUJING_VOICE_URL and YUJING_WEB_PORT (8701, 8702, 6066)
    d.add_argument("--sms-port", type=int, default=None)
    d.add_argument("--voice-port", type=int, default=None)
    d.add_argument("--web-port", type=int, default=None)
    d.add_argument(
        "--secure",
        action="store_true",
        help="on the local broker started with --secure: the worker logs in as 'worker', the "
        "demo as 'tools' (the broker's grants become this run's topics)",
    )
    d.add_argument(
        "--console",
        action="store_true",
        help="when the demo is done, keep its worker up for the operator console at "
        "http://127.0.0.1:WEB_PORT/console until Ctrl-C",
    )
    d.set_defaults(func=_demo)


def _demo(args: Any) -> int:
    from streams.dev.broker import BrokerConfig, BrokerError, LocalBroker
    from streams.runtime.settings import Settings

    settings = Settings.from_env()
    bootstrap = settings.kafka_bootstrap if settings.given("kafka_bootstrap") else None
    config = BrokerConfig.from_env()
    args.sms_port = args.sms_port or urlsplit(settings.sms_url).port or 8701
    args.voice_port = args.voice_port or urlsplit(settings.voice_url).port or 8702
    args.web_port = args.web_port or settings.web_port
    if args.secure:
        if bootstrap:
            raise BrokerError(
                "demo --secure runs on the local broker it starts: unset YUJING_KAFKA_BOOTSTRAP "
                "(for a secured broker of your own, give its login with YUJING_ENV_FILE instead)"
            )
        return _secure_demo(args, config)
    if bootstrap:
        print(f"• using the broker at {bootstrap} (YUJING_KAFKA_BOOTSTRAP)")
    else:
        print(f"• starting the local Kafka broker in {config.home} (first run fetches jars)…")
        bootstrap = LocalBroker(config).start()
        print(f"• broker answering at {bootstrap} (stop it with: yujing broker stop)")
    return run(
        bootstrap,
        config.home,
        args.sms_port,
        args.web_port,
        args.voice_port,
        security=settings.kafka_security,
        console=args.console,
    )


def _secure_demo(args: Any, config: Any) -> int:
    """The demo on the local broker with TLS, SCRAM users and ACLs (started if need be)."""
    from streams.dev.broker import LocalBroker
    from streams.dev.broker.acls import Naming
    from streams.runtime.settings import Settings

    run_id = new_run_id()
    prefix, app_id = naming(run_id)
    broker = LocalBroker(config)
    print(f"• starting the secure local broker in {config.home} (or granting this run on it)…")
    bootstrap = broker.start(secure=True, naming=Naming(topic_prefix=prefix, app_id=app_id))
    secrets = broker.secrets_dir
    print(f"• SASL_SSL broker at {bootstrap}; the worker logs in as 'worker', the demo as 'tools'")
    tools = Settings.from_env({"YUJING_ENV_FILE": str(secrets / "tools.env")})
    return run(
        bootstrap,
        config.home,
        args.sms_port,
        args.web_port,
        args.voice_port,
        security=tools.kafka_security,
        run_id=run_id,
        worker_env_file=secrets / "worker.env",
        console=args.console,
    )
