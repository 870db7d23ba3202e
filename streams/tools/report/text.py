"""The daily report as readable terminal tables (``yujing report`` without ``--json``).

(… → **report**.) Renders the figures of :func:`streams.tools.report.figures.compute`;
it computes nothing itself, so the tables, the JSON and the HTML page always
say the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Json = dict[str, Any]
LEVELS = ("low", "medium", "high", "critical")
GROUP_COLUMNS = (
    "orders",
    "met",
    "missed",
    "open",
    "on time",
    "breaches",
    "auto",
    "MTTA",
    "MTTR",
    "assessment",
)


def pct(x: float | None) -> str:
    """A share as a percentage; ``None`` (nothing to divide) as a dash.

    >>> pct(0.8234), pct(None)
    ('82.3 %', '—')
    """
    return "—" if x is None else f"{100 * x:.1f} %"


def dur(s: float | None) -> str:
    """A duration for a person.

    >>> dur(42), dur(250), dur(7260), dur(200000), dur(None)
    ('42s', '4m 10s', '2h 01m', '2d 07h', '—')
    """
    if s is None:
        return "—"
    s = round(s)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600:02d}h"


def num(x: float | None, digits: int = 2) -> str:
    if x is None:
        return "—"
    return f"{x:,}" if isinstance(x, int) else f"{x:,.{digits}f}"


def table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain table: the first column left-aligned, numbers right-aligned."""
    cells = [[str(c) for c in r] for r in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]

    def line(values: Sequence[str]) -> str:
        out = []
        for i, (v, w) in enumerate(zip(values, widths, strict=True)):
            out.append(v.ljust(w) if i == 0 or not _numeric(v) else v.rjust(w))
        return "  " + "  ".join(out).rstrip()

    body = [line(headers), "  " + "  ".join("-" * w for w in widths)]
    body += [line(r) for r in cells] if cells else ["  (none)"]
    return f"{title}\n" + "\n".join(body)


def _numeric(v: str) -> bool:
    return v == "—" or v.replace(",", "").replace(".", "").replace(" %", "").lstrip("-").isdigit()


def _level_rows(groups: Mapping[str, Json], total: Json | None = None) -> list[list[object]]:
    rows: list[list[object]] = [
        [k, g["total"], *(g[lv] for lv in LEVELS)] for k, g in groups.items()
    ]
    if total is not None and len(groups) > 1:
        rows.append(["(all)", total["total"], *(total[lv] for lv in LEVELS)])
    return rows


def group_rows(groups: Mapping[str, Json]) -> list[list[object]]:
    """One row per receiver or department, in :data:`GROUP_COLUMNS` order (text and HTML)."""
    return [
        [
            name,
            g["orders"],
            g["met"],
            g["missed"],
            g["open"],
            pct(g["compliance"]),
            g["breaches"],
            g["auto_resolved"],
            dur(g["mtta_s"]),
            dur(g["mttr_s"]),
            g["assessment"],
        ]
        for name, g in groups.items()
    ]


def group_table(title: str, first: str, groups: Mapping[str, Json]) -> str:
    rows = group_rows(groups)
    return table(title, (first, *GROUP_COLUMNS), rows)


def hour_bars(series: Sequence[Json], width: int = 40) -> str:
    """A bar per hour; beyond two days, only the hours that had alerts."""
    top = max((h["alerts"] for h in series), default=0)
    lines = []
    for h in series if len(series) <= 48 else [h for h in series if h["alerts"]]:
        n = h["alerts"]
        bar = "#" * (round(width * n / top) if top else 0)
        lines.append(f"  {h['hour'][:16].replace('T', ' ')}  {bar} {n}")
    return "ALERTS PER HOUR\n" + ("\n".join(lines) if lines else "  (none)")


def render_text(f: Json) -> str:
    p, s, a = f["period"], f["summary"], f["alerts"]
    since, until = p["since"] or "the beginning", p["until"] or "now"
    days = f" ({p['days']:g} day{'' if p['days'] == 1 else 's'})" if p["days"] else ""
    auto, t, esc = f["auto_disposal"], f["times"], f["escalations"]
    out = [
        f"yujing daily report: {since} → {until}{days}",
        "",
        "SUMMARY",
        f"  alerts {s['alerts']:,}   orders {s['orders']:,}   auto-disposed "
        f"{auto['auto_resolved']:,} ({pct(s['auto_disposed_ratio'])})   SLA on time "
        f"{pct(f['sla']['all']['compliance'])}   breaches {s['sla_breaches_observed']:,}   "
        f"MTTA {dur(t['mtta']['mean_s'])}   MTTR {dur(t['mttr']['mean_s'])}",
    ]
    if f["ground_truth"]:
        out.append(
            f"  recall {pct(s['recall'])} of {s['incidents']} incidents   false alerts "
            f"{f['ground_truth']['false_alerts']} ({num(s['false_alerts_per_1000_sensor_days'])} "
            "per 1000 sensor-days)"
        )
    kinds = ", ".join(f"{k} {v}" for k, v in a["systemic"].items())
    out += [
        "",
        table(
            "ALERTS BY MODULE",
            ("module", "total", *LEVELS),
            _level_rows(a["by_module"], a["by_level"]),
        ),
        "",
        f"  by kind: single {a['by_kind']['single']}, compound {a['by_kind']['compound']}, "
        f"systemic {a['by_kind']['systemic']} ({kinds})",
        f"  emergency {a['emergency']}, covered by a systemic alert {a['inhibited']}, "
        f"paged but without an order {a['without_order']}",
        "",
        table("ALERTS BY SCOPE", ("scope", "total", *LEVELS), _level_rows(a["by_scope_kind"])),
        "",
        table("ALERTS BY TOWN", ("town", "total", *LEVELS), _level_rows(a["by_town"])),
        "",
        hour_bars(a["per_hour"]),
        "",
        _orders(f),
        "",
        group_table(
            f"DEPARTMENTS: HANDLING (department from the {f['sla']['department_source']})",
            "department",
            f["sla"]["by_department"],
        ),
        "",
        group_table("RECEIVER ROLES", "role", f["sla"]["by_role"]),
        "",
        group_table("RECEIVERS", "receiver", f["sla"]["by_receiver"]),
        "",
        "AUTO-DISPOSAL",
        f"  {auto['auto_resolved']:,} of {auto['orders']:,} orders closed by the machine "
        f"({pct(auto['ratio'])}; {pct(auto['ratio_of_auto_disposable'])} of the "
        f"{auto['auto_disposable']:,} auto-disposable), {num(auto['per_day'], 1)} a day",
        f"  to a person: re-check failed {auto['escalated_at_recheck']}, help requested "
        f"{auto['help_requested']}; still with the machine {auto['in_progress']}",
        "",
        table(
            "RESPONSE TIMES",
            ("", "orders", "mean", "median", "p90"),
            [
                [name, d["n"], dur(d["mean_s"]), dur(d["p50_s"]), dur(d["p90_s"])]
                for name, d in (
                    ("MTTA (created → signed)", t["mtta"]),
                    ("MTTR (created → resolved)", t["mttr"]),
                    ("  by a person", t["mttr_person"]),
                    ("  by the machine", t["mttr_machine"]),
                )
            ],
        ),
        "",
        "ESCALATIONS",
        f"  {esc['orders_escalated']} orders escalated: re-check failed {esc['at_recheck']}, "
        f"help requested {esc['help_requested']},\n  missed a deadline {esc['with_breach']} "
        f"({esc['breaches']} breaches"
        + "".join(f"; {n} to {who}" for who, n in esc["breaches_to"].items())
        + ")",
        "",
        _notifications(f["notifications"]),
    ]
    if f["ground_truth"]:
        out += ["", _truth(f["ground_truth"])]
    return "\n".join(out)


def _orders(f: Json) -> str:
    o, sla = f["orders"], f["sla"]
    rows = [
        [f"{cls} / {stage}", g["stages"], g["met"], g["missed"], g["open"], pct(g["compliance"])]
        for cls, stages in sla["by_class"].items()
        for stage, g in stages.items()
    ]
    a = sla["all"]
    rows.append(
        ["(all stages)", a["stages"], a["met"], a["missed"], a["open"], pct(a["compliance"])]
    )
    states = ", ".join(f"{k} {v}" for k, v in o["by_state"].items()) or "none"
    classes = ", ".join(f"{k} {v}" for k, v in o["by_sla_class"].items()) or "none"
    return (
        f"ORDERS\n  {o['total']:,} created ({classes}); now: {states}\n"
        f"  SLA breaches observed {sla['breaches']['observed']}"
        + "".join(f", {k} {v}" for k, v in sla["breaches"]["by_stage"].items())
        + "\n\n"
        + table(
            "SLA COMPLIANCE PER STAGE",
            ("class / stage", "stages", "met", "missed", "open", "on time"),
            rows,
        )
    )


def _notifications(n: Json) -> str:
    purposes = ", ".join(f"{k} {v}" for k, v in n["by_purpose"].items()) or "none"
    text = (
        f"NOTIFICATIONS\n  {n['requested']:,} requested ({purposes});\n  "
        f"delivered {n['delivered']:,}, failed {n['failed']}, no receipt yet {n['no_receipt']}"
    )
    if n["stubs"]:
        st = n["stubs"]
        text += (
            f"\n  stubs: {st['accepted']:,} accepted, duplicate notifications "
            f"{st['duplicate_notifications']}, requested but not accepted "
            f"{st['requested_not_accepted']}"
        )
    return text


def _recheck(r: Json | None) -> list[str]:
    if not r or not r["judged"]:
        return []
    return [
        f"  machine re-checks right {pct(r['right'])} of {r['judged']}: auto-resolved "
        f"{r['resolved']} ({r['resolved_while_on']} with the incident still on),",
        f"    escalated {r['escalated']} ({r['escalated_after_end']} after the incident "
        f"ended, {r['escalated_no_incident']} with no incident)",
    ]


def _truth(g: Json) -> str:
    rows = [[m, v["incidents"], v["detected"], pct(v["recall"])] for m, v in g["by_module"].items()]
    systemic = [
        [k, v["alerts"], v["matched"], v["group_matched"], v["groups"], v["groups_detected"]]
        for k, v in g["systemic"].items()
    ]
    lines = [
        f"GROUND TRUTH (match: within {dur(g['match_delay_s'])} after an incident's end)",
        f"  recall {pct(g['recall'])}: {g['detected']} of {g['incidents']} incidents; "
        f"detection delay mean {dur(g['detection_delay']['mean_s'])}, "
        f"p90 {dur(g['detection_delay']['p90_s'])}",
        f"  false alerts {g['false_alerts']} of {g['alerts_matched'] + g['false_alerts']} "
        f"({g['false_alerts_from_faults']} from {g['faults']} sensor faults); "
        f"{num(g['false_alerts_per_1000_sensor_days'])} per 1000 sensor-days "
        f"({num(g['sensors'])} sensors)",
        *_recheck(g.get("recheck")),
        "",
        table("RECALL BY MODULE", ("module", "incidents", "detected", "recall"), rows),
        "",
        table(
            "COMPOUND AND SYSTEMIC ALERTS AGAINST INJECTED GROUPS (to a group: holding a member)",
            ("kind", "alerts", "matched", "to a group", "groups", "detected"),
            systemic,
        ),
    ]
    if g["groups"]:
        groups = [
            [k, v["incidents"], v["detected"], pct(v["recall"])] for k, v in g["groups"].items()
        ]
        lines += [
            "",
            table(
                "GROUP INCIDENTS (an alert of their kind holding a member)",
                ("kind", "incidents", "detected", "share"),
                groups,
            ),
        ]
    for what, ids in (("missed", g["missed"]), ("groups missed", g["groups_missed"])):
        if ids:
            lines += ["", f"  {what}: " + ", ".join(ids[:10]) + (" …" if len(ids) > 10 else "")]
    return "\n".join(lines)


__all__ = ["dur", "pct", "render_text", "table"]
