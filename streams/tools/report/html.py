"""The daily report as one self-contained HTML page (``yujing report --html FILE``).

(… → **report**.) Two charts drawn here as inline SVG (alerts per hour; SLA
compliance per department, coloured by its assessment) and the report's
tables; no script, no stylesheet or font fetched from anywhere, so the page
opens the same on a laptop with no network. It renders the figures of
:func:`streams.tools.report.figures.compute` and computes nothing itself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any

from streams.tools.report.figures import GRADES
from streams.tools.report.text import GROUP_COLUMNS, LEVELS, dur, group_rows, num, pct

Json = dict[str, Any]
COLOURS = {"good": "#2e7d32", "needs attention": "#ef6c00", "poor": "#c62828"}
NEUTRAL = "#90a4ae"
#: the per-kind ground-truth columns (groundtruth.assess's "systemic")
GT_COLUMNS = ("alerts", "matched", "group_matched", "groups", "groups_detected")
CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:.2em .7em;border-bottom:1px solid #eee}
th{text-align:left;background:#f5f5f5}td.n{text-align:right;font-variant-numeric:tabular-nums}
.kpi{display:inline-block;margin:0 1.5em .8em 0}.kpi b{display:block;font-size:1.5em}
svg text{font:11px system-ui,sans-serif;fill:#333}.note{color:#666;font-size:.9em}
"""


def _t(text: object) -> str:
    return escape(str(text))


def alerts_per_hour_svg(series: Sequence[Json], width: int = 960, height: int = 260) -> str:
    """A bar per hour; the y axis in whole alerts."""
    left, bottom, top_pad = 40, 40, 20
    n = max(len(series), 1)
    top = max((h["alerts"] for h in series), default=0) or 1
    plot_w, plot_h = width - left - 10, height - bottom - top_pad
    bar_w = plot_w / n
    parts = [
        f'<svg id="alerts-per-hour" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        "<title>Alerts per hour</title>",
    ]
    step = max(1, math.ceil(top / 4))
    top = step * 4  # whole-alert ticks
    for k in range(5):
        y = top_pad + plot_h - plot_h * k / 4
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
        )
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{step * k}</text>')
    every = max(1, n // 12)
    for i, h in enumerate(series):
        bh = plot_h * h["alerts"] / top
        x = left + i * bar_w
        parts.append(
            f'<rect class="bar" x="{x + 1:.1f}" y="{top_pad + plot_h - bh:.1f}" '
            f'width="{max(bar_w - 2, 1):.1f}" height="{bh:.1f}" fill="#1565c0">'
            f"<title>{_t(h['hour'])}: {h['alerts']} alerts</title></rect>"
        )
        if i % every == 0:
            label = h["hour"][11:16] if h["hour"][11:16] != "00:00" or n <= 24 else h["hour"][5:10]
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{height - bottom + 16}" '
                f'text-anchor="middle">{_t(label)}</text>'
            )
    parts.append(
        f'<line x1="{left}" x2="{width - 10}" y1="{top_pad + plot_h}" y2="{top_pad + plot_h}" '
        'stroke="#999"/></svg>'
    )
    return "".join(parts)


def sla_per_department_svg(departments: Json, width: int = 960) -> str:
    """A horizontal bar per department: its on-time share, coloured by its assessment."""
    row_h, left, right = 26, 230, 90
    rows = list(departments.items())
    height = max(1, len(rows)) * row_h + 40
    plot_w = width - left - right
    parts = [
        f'<svg id="sla-per-department" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        "<title>SLA compliance per department</title>",
    ]
    for i, (name, g) in enumerate(rows):
        y = 14 + i * row_h
        share = g["compliance"]
        colour = COLOURS.get(g["assessment"], NEUTRAL)
        w = plot_w * (share or 0.0)
        label = pct(share) if share is not None else "none due"
        parts.append(
            f'<text x="{left - 8}" y="{y + 14}" text-anchor="end">{_t(name)}</text>'
            f'<rect x="{left}" y="{y}" width="{plot_w}" height="{row_h - 8}" fill="#f3f3f3"/>'
            f'<rect class="bar" x="{left}" y="{y}" width="{w:.1f}" height="{row_h - 8}" '
            f'fill="{colour}"><title>{_t(name)}: {pct(share)} on time, {g["missed"]} missed, '
            f"{g['open']} open ({_t(g['assessment'])})</title></rect>"
            f'<text x="{left + plot_w + 6}" y="{y + 14}">{_t(label)}</text>'
        )
    for floor, name in GRADES:
        x = left + plot_w * floor
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="10" y2="{height - 20}" stroke="{COLOURS[name]}" '
            f'stroke-dasharray="4 3"/><text x="{x:.1f}" y="{height - 6}" text-anchor="middle">'
            f"{floor:.0%}</text>"
        )
    if not rows:
        parts.append(f'<text x="{left}" y="30">no orders in the period</text>')
    parts.append("</svg>")
    return "".join(parts)


def html_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{_t(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{_t(c)}</td>'
            if isinstance(c, int | float) or i
            else f"<td>{_t(c)}</td>"
            for i, c in enumerate(r)
        )
        + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body or '<tr><td>(none)</td></tr>'}</table>"


def _groups(groups: Json) -> str:
    return html_table(("", *GROUP_COLUMNS), group_rows(groups))


def render_html(f: Json) -> str:
    p, s, a, sla = f["period"], f["summary"], f["alerts"], f["sla"]
    auto, t, esc, gt = f["auto_disposal"], f["times"], f["escalations"], f["ground_truth"]
    generated = f.get("source", {}).get("generated_at", "")
    kpis = [
        ("alerts", f"{s['alerts']:,}"),
        ("orders", f"{s['orders']:,}"),
        ("auto-disposed", pct(s["auto_disposed_ratio"])),
        ("SLA on time", pct(sla["all"]["compliance"])),
        ("SLA breaches", f"{s['sla_breaches_observed']:,}"),
        ("MTTA", dur(t["mtta"]["mean_s"])),
        ("MTTR", dur(t["mttr"]["mean_s"])),
    ]
    if gt:
        kpis += [
            ("recall", pct(s["recall"])),
            ("false / 1000 sensor-days", num(s["false_alerts_per_1000_sensor_days"])),
        ]
    stage_rows = [
        [f"{cls} / {st}", g["stages"], g["met"], g["missed"], g["open"], pct(g["compliance"])]
        for cls, stages in sla["by_class"].items()
        for st, g in stages.items()
    ]
    level_rows = [[m, g["total"], *(g[lv] for lv in LEVELS)] for m, g in a["by_module"].items()]
    town_rows = [[m, g["total"], *(g[lv] for lv in LEVELS)] for m, g in a["by_town"].items()]
    parts = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        f"<title>yujing daily report {_t(p['since'] or '')}</title>",
        f"<style>{CSS}</style></head><body>",
        f'<h1>yujing daily report</h1><p class="note">{_t(p["since"] or "the beginning")} → '
        f"{_t(p['until'] or 'now')}; generated {_t(generated)}</p>",
        "".join(f'<div class="kpi"><b>{_t(v)}</b>{_t(k)}</div>' for k, v in kpis),
        "<h2>Alerts per hour</h2>",
        alerts_per_hour_svg(a["per_hour"]),
        "<h2>SLA compliance per department</h2>",
        f'<p class="note">on-time share of decided stages; department from the '
        f"{_t(sla['department_source'])}; dashed: the assessment's bounds</p>",
        sla_per_department_svg(sla["by_department"]),
        "<h2>Departments: handling</h2>",
        _groups(sla["by_department"]),
        "<h2>Alerts by module and level</h2>",
        html_table(("module", "total", *LEVELS), level_rows),
        f"<p>single {a['by_kind']['single']}, compound {a['by_kind']['compound']}, systemic "
        f"{a['by_kind']['systemic']} ("
        + _t(", ".join(f"{k} {v}" for k, v in a["systemic"].items()))
        + f"); emergency {a['emergency']}; covered by a systemic alert {a['inhibited']}</p>",
        "<h2>Alerts by town</h2>",
        html_table(("town", "total", *LEVELS), town_rows),
        "<h2>SLA compliance per stage</h2>",
        html_table(("class / stage", "stages", "met", "missed", "open", "on time"), stage_rows),
        "<h2>Receiver roles</h2>",
        _groups(sla["by_role"]),
        "<h2>Receivers</h2>",
        _groups(sla["by_receiver"]),
        "<h2>Auto-disposal, response times, escalations</h2>",
        f"<p>{auto['auto_resolved']:,} of {auto['orders']:,} orders closed by the machine "
        f"({pct(auto['ratio'])}), {_t(num(auto['per_day'], 1))} a day; re-check failed "
        f"{auto['escalated_at_recheck']}, help requested {auto['help_requested']}, still with the "
        f"machine {auto['in_progress']}.</p>",
        html_table(
            ("", "orders", "mean", "median", "p90"),
            [
                [name, d["n"], dur(d["mean_s"]), dur(d["p50_s"]), dur(d["p90_s"])]
                for name, d in (
                    ("MTTA", t["mtta"]),
                    ("MTTR", t["mttr"]),
                    ("MTTR by a person", t["mttr_person"]),
                    ("MTTR by the machine", t["mttr_machine"]),
                )
            ],
        ),
        f"<p>{esc['orders_escalated']} orders escalated: re-check failed {esc['at_recheck']}, help "
        f"requested {esc['help_requested']}, missed a deadline {esc['with_breach']} "
        f"({esc['breaches']} breaches).</p>",
    ]
    if gt:
        parts += [
            "<h2>Against the ground truth</h2>",
            f"<p>recall {pct(gt['recall'])} ({gt['detected']} of {gt['incidents']} "
            f"incidents); false alerts {gt['false_alerts']} "
            f"({gt['false_alerts_from_faults']} from sensor faults), "
            f"{_t(num(gt['false_alerts_per_1000_sensor_days']))} per 1000 sensor-days.</p>",
            *_recheck(gt.get("recheck")),
            html_table(
                ("alert kind", "alerts", "matched", "to an injected group", "groups", "detected"),
                [[k, *(v[c] for c in GT_COLUMNS)] for k, v in gt["systemic"].items()],
            ),
            html_table(
                ("module", "incidents", "detected", "recall"),
                [
                    [m, v["incidents"], v["detected"], pct(v["recall"])]
                    for m, v in gt["by_module"].items()
                ],
            ),
        ]
    parts.append("<h2>Definitions</h2><dl>")
    parts += [f"<dt><b>{_t(k)}</b></dt><dd>{_t(v)}</dd>" for k, v in f["definitions"].items()]
    parts.append("</dl></body></html>")
    return "\n".join(parts)


__all__ = ["alerts_per_hour_svg", "render_html", "sla_per_department_svg"]


def _recheck(r: dict[str, Any] | None) -> list[str]:
    if not r or not r["judged"]:
        return []
    return [
        f"<p>machine re-checks right {pct(r['right'])} of {r['judged']}: auto-resolved "
        f"{r['resolved']} ({r['resolved_while_on']} with the incident still on); escalated "
        f"{r['escalated']} ({r['escalated_after_end']} after the incident ended, "
        f"{r['escalated_no_incident']} with no incident).</p>"
    ]
