"""``yujing report``: the daily report for a district's leaders, from the topics.

(alert → order → breach / status → notification → **report**.) It reads the
alerts, dispatch orders, order status, SLA breaches, notifications and receipts
from the beginning to their current end (``$YUJING_KAFKA_BOOTSTRAP``, topics
under ``$YUJING_TOPIC_PREFIX``), keeps those of the period (``--day`` or
``--since``/``--until``, in event time), and prints readable tables: alerts by
module, level, scope and town; orders and SLA compliance per stage, department,
receiver role and receiver, with each department's assessment; auto-disposal;
MTTA and MTTR; escalations; notifications; and, with the simulator's ground
truth (``--truth``), recall and false alerts. ``--json`` prints (or writes)
every figure with its definition; ``--html FILE`` writes a self-contained page
with charts (alerts per hour, SLA compliance per department).

Outside the event flow: it only reads (no consumer group, so it moves no
one's offsets). The figures are computed by :mod:`streams.tools.report.figures`.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any

from schemas.codec import DecodeError, decode
from schemas.registry import (
    ALERTS,
    DISPATCH_ORDERS,
    NOTIFICATIONS,
    ORDER_STATUS,
    RECEIPTS,
    SLA_BREACHES,
    TopicSpec,
)
from streams.core.shared.clock import parse_instant
from streams.core.shared.config import ConfigError
from streams.runtime.kafka_security import PLAINTEXT, KafkaSecurity
from streams.runtime.reach import OneLineError
from streams.tools.report import groundtruth
from streams.tools.report.facts import Period
from streams.tools.report.figures import Topics, compute

Json = dict[str, Any]
#: the topics a report reads, and the field of :class:`Topics` each fills
READS: tuple[tuple[TopicSpec, str], ...] = (
    (ALERTS, "alerts"),
    (DISPATCH_ORDERS, "orders"),
    (ORDER_STATUS, "statuses"),
    (SLA_BREACHES, "breaches"),
    (NOTIFICATIONS, "notifications"),
    (RECEIPTS, "receipts"),
)
#: the district's clock, for --day and the hours of the charts, unless told otherwise
DEFAULT_UTC_OFFSET = "+08:00"


class StubUnreachable(OneLineError):
    def __init__(self, what: str, url: str, why: object) -> None:
        super().__init__(f"{what} not reachable at {url} ({why})")


def read_topics(
    bootstrap: str, prefix: str, timeout_s: float = 300.0, *, security: KafkaSecurity = PLAINTEXT
) -> tuple[Topics, Json]:
    """The report's topics, decoded; and per topic the records that would not decode."""
    from streams.runtime.kafka_io import MissingTopic, read_to_end
    from streams.runtime.reach import require_broker

    require_broker(bootstrap, security=security)
    names = [prefix + spec.name for spec, _ in READS]
    try:  # the alerts must exist
        raw = read_to_end(bootstrap, names[:1], timeout_s=timeout_s, security=security)
        raw.update(
            read_to_end(bootstrap, names[1:], timeout_s=timeout_s, optional=True, security=security)
        )
    except MissingTopic as err:
        raise ConfigError(
            f"report: topic {err.topic!r} does not exist on the broker at {bootstrap} "
            "(is YUJING_TOPIC_PREFIX the one the worker used?)"
        ) from None
    except TimeoutError as err:
        raise OneLineError(f"topics {err} (a bigger --timeout?)") from None
    fields: dict[str, list[Any]] = {}
    undecodable: Json = {}
    for (spec, field), name in zip(READS, names, strict=True):
        events = []
        for record in raw[name]:
            try:
                events.append(decode(spec.schema, record.value))
            except DecodeError:
                undecodable[spec.name] = undecodable.get(spec.name, 0) + 1
        fields[field] = events
    return Topics(**fields), undecodable


def stub_messages(urls: Sequence[tuple[str, str]]) -> list[Json] | None:
    """Every message the stubs accepted (``GET /v1/messages``); ``None`` if no URL is given."""
    from streams.dev.runner import get_json

    if not urls:
        return None
    out: list[Json] = []
    for what, url in urls:
        try:
            status, body = get_json(url.rstrip("/") + "/v1/messages", timeout=10)
        except OSError as err:
            raise StubUnreachable(what, url, getattr(err, "reason", None) or err) from None
        if (
            status != 200
            or not isinstance(body, dict)
            or not isinstance(body.get("messages"), list)
        ):
            raise StubUnreachable(what, url, f"answered {status} without a message list")
        out += [m for m in body["messages"] if isinstance(m, dict)]
    return out


def load_truth(path: Path, sensors: int | None) -> groundtruth.Truth:
    try:
        truth = groundtruth.parse_truth(path.read_text(encoding="utf-8").splitlines())
    except OSError as err:
        raise ConfigError(f"report: --truth {path}: {err.strerror or err}") from None
    except ValueError as err:
        raise ConfigError(f"report: --truth {path}: {err}") from None
    if sensors is not None:
        truth = groundtruth.Truth(truth.entries, sensors, truth.days)
    return truth


def regions_of(district: Path, truth: groundtruth.Truth | None) -> tuple[Json, Json]:
    """(place → town, place → the regions containing it), from the district model and the
    places the ground truth names."""
    from streams.core.shared.regions import load_regions

    index = load_regions(district)
    ancestors: dict[str, list[str]] = {}
    towns: dict[str, str] = {}
    for scope, kind in index.scopes().items():
        if kind in ("place", "grid_cell", "community"):
            loc = index.locate(scope)
            chain = index.ancestors(scope)[1:]
            ancestors[scope] = chain
            if loc is not None:
                towns[scope] = loc.town
            elif len(chain) >= 2:
                towns[scope] = chain[-2]  # a community: its town sits below the district
    for e in truth.entries if truth else ():
        if e.place_id and e.place_id not in ancestors:
            ancestors[e.place_id] = [x for x in (e.grid_cell, e.community, e.town) if x]
        for region in (e.place_id, e.grid_cell, e.community):
            if region and e.town:
                towns.setdefault(region, e.town)
    return towns, ancestors


def parse_period(args: argparse.Namespace) -> tuple[Period, tzinfo]:
    """The period and the clock its hours are shown in."""
    tz = _offset(args.utc_offset)
    if args.day and (args.since or args.until):
        raise ConfigError("report: give --day, or --since/--until, not both")
    if args.day:
        try:
            day = datetime.fromisoformat(args.day).replace(tzinfo=tz)
        except ValueError:
            raise ConfigError(f"report: --day {args.day!r} is not a date (YYYY-MM-DD)") from None
        return Period(day, day + timedelta(days=1)), tz
    since = parse_instant(args.since, "report: --since") if args.since else None
    until = parse_instant(args.until, "report: --until") if args.until else None
    try:
        period = Period(since, until)
    except ValueError as err:
        raise ConfigError(f"report: {err}") from None
    if since is not None and since.tzinfo is not None and not args.utc_offset_given:
        tz = since.tzinfo
    return period, tz


def _offset(raw: str) -> tzinfo:
    try:
        t = datetime.fromisoformat(f"2000-01-01T00:00:00{raw}")
    except ValueError:
        t = None
    if t is None or t.tzinfo is None:
        raise ConfigError(f"report: --utc-offset {raw!r} is not an offset like +08:00")
    return timezone(t.utcoffset() or timedelta(0))


def add_report_command(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="the daily report for leaders: alerts, orders, SLA, auto-disposal, recall",
        description=(__doc__ or "").split("\n\n")[1],
    )
    p.add_argument("--day", help="the day YYYY-MM-DD, in --utc-offset's clock")
    p.add_argument("--since", help="period start (ISO-8601 with offset, or Unix seconds)")
    p.add_argument("--until", help="period end, exclusive")
    p.add_argument(
        "--utc-offset",
        default=None,
        help=f"the district's clock, for --day and hours (default {DEFAULT_UTC_OFFSET})",
    )
    p.add_argument("--truth", type=Path, help="the simulator's ground truth (JSONL)")
    p.add_argument("--sensors", type=int, help="sensors in the district (default: the truth's)")
    p.add_argument(
        "--match-delay-s",
        type=float,
        default=groundtruth.DEFAULT_DELAY_S,
        help="how long after an incident's end an alert still counts for it",
    )
    p.add_argument("--sms-url", help="the SMS stub (default $YUJING_SMS_URL if set)")
    p.add_argument("--voice-url", help="the voice stub (default $YUJING_VOICE_URL if set)")
    p.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="FILE",
        help="every figure as JSON: on stdout instead of the tables, or into FILE",
    )
    p.add_argument("--html", type=Path, metavar="FILE", help="write a page with charts")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds to read the topics")
    p.set_defaults(func=_report)


def _report(args: argparse.Namespace) -> int:
    from streams.runtime.settings import Settings
    from streams.tools.report.html import render_html
    from streams.tools.report.text import render_text

    settings = Settings.from_env()
    args.utc_offset_given = args.utc_offset is not None
    args.utc_offset = args.utc_offset or DEFAULT_UTC_OFFSET
    period, tz = parse_period(args)
    if args.sensors is not None and args.sensors < 1:
        raise ConfigError("report: --sensors must be >= 1")
    if args.match_delay_s < 0:
        raise ConfigError("report: --match-delay-s must be >= 0")
    truth = load_truth(args.truth, args.sensors) if args.truth else None
    towns, ancestors = regions_of(settings.district, truth)
    # the stubs are asked only when named: by a flag, else by YUJING_SMS_URL / YUJING_VOICE_URL
    named = {f: getattr(settings, f) for f in ("sms_url", "voice_url") if settings.given(f)}
    stubs = [
        (what, url)
        for what, url in (
            ("the SMS stub", args.sms_url or named.get("sms_url")),
            ("the voice stub", args.voice_url or named.get("voice_url")),
        )
        if url
    ]
    bootstrap = settings.kafka_bootstrap
    topics, undecodable = read_topics(
        bootstrap, settings.topic_prefix, args.timeout, security=settings.kafka_security
    )
    figures = compute(
        topics,
        period,
        towns=towns,
        ancestors=ancestors,
        tz=tz,
        stub_messages=stub_messages(stubs),
        truth=truth,
        match_delay_s=args.match_delay_s,
    )
    figures["source"] = _source(bootstrap, settings.topic_prefix, undecodable, args)
    if args.html:
        args.html.write_text(render_html(figures), encoding="utf-8")
    text = json.dumps(figures, indent=2, ensure_ascii=False)
    if args.json and args.json != "-":
        Path(args.json).write_text(text + "\n", encoding="utf-8")
    if args.json == "-":
        print(text)
    else:
        print(render_text(figures))
        for what, path in (("JSON", args.json), ("HTML", args.html)):
            if path:
                print(f"{what} written to {path}")
    return 0


def _source(bootstrap: str, prefix: str, undecodable: Mapping[str, int], args: Any) -> Json:
    return {
        "bootstrap": bootstrap,
        "topic_prefix": prefix,
        "topics": [spec.name for spec, _ in READS],
        "undecodable": dict(undecodable),
        "truth": str(args.truth) if args.truth else None,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


__all__ = ["add_report_command", "parse_period", "read_topics", "stub_messages"]
