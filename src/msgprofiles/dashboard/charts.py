"""Charts drawn on the server as inline SVG (no script, no outside asset): deliveries per hour
by outcome, and commit-to-delivery latency per hour."""

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from msgprofiles.webhooks.stats import Delivered

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 720, 236, 60, 28, 28
OUTCOMES = (  # status, label, colour (readable on light and dark backgrounds)
    ("succeeded", "delivered", "#2e9d6f"),
    ("pending", "retrying", "#d99a1e"),
    ("held", "held (paused)", "#8a8fd6"),
    ("failed", "failed", "#d1495b"),
    ("cancelled", "cancelled", "#8c8c8c"),
)


@dataclass(frozen=True)
class Chart:
    title: str
    svg: str  # safe markup: every text in it is escaped
    summary: str  # the chart in words, for screen readers and for the table below it


def _hours(now: datetime) -> list[datetime]:
    last = now.replace(minute=0, second=0, microsecond=0)
    return [last - timedelta(hours=23 - i) for i in range(24)]


def _frame(body: list[str], peak: float, unit: str, hours: list[datetime], label: str) -> str:
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    parts = [
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(label)}" '
        'class="chart" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(label)}</title>",
    ]
    for step in range(5):  # horizontal grid with its values
        value = peak * step / 4
        y = TOP + plot_h - plot_h * step / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(_number(value))}{escape(unit)}</text>"
        )
    for index, hour in enumerate(hours):
        if index % 6 == 0 or index == len(hours) - 1:
            x = LEFT + plot_w * (index + 0.5) / len(hours)
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="middle">{hour:%H}:00</text>'
            )
    parts += body
    parts.append("</svg>")
    return "".join(parts)


def _number(value: float) -> str:
    return f"{value:.3g}"


def _ceiling(peak: float) -> float:
    """The smallest round number (1, 2, 4 or 8 times a power of ten) at or above `peak`,
    so that the four grid steps are round too."""
    scale = 10 ** math.floor(math.log10(peak)) if peak > 0 else 1
    return next(m * scale for m in (1, 2, 4, 8, 10) if m * scale >= peak)


def _legend(entries: Sequence[tuple[str, str]]) -> list[str]:
    parts, x = [], LEFT
    for label, colour in entries:
        parts.append(
            f'<rect x="{x}" y="{TOP - 10}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14}" y="{TOP - 1}">{escape(label)}</text>'
        )
        x += 24 + 7 * len(label)
    return parts


def deliveries(counted: Mapping[tuple[datetime, str], int], now: datetime) -> Chart:
    """Stacked bars: each hour's deliveries by outcome (times in UTC)."""
    hours = _hours(now)
    totals = [sum(counted.get((hour, s), 0) for s, _, _ in OUTCOMES) for hour in hours]
    peak = _ceiling(max(max(totals, default=0), 4))
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    bar = plot_w / len(hours)
    body = []
    for index, hour in enumerate(hours):
        y: float = TOP + plot_h
        for status, label, colour in OUTCOMES:
            count = counted.get((hour, status), 0)
            if not count:
                continue
            height = plot_h * count / peak
            y -= height
            body.append(
                f'<rect x="{LEFT + index * bar + 1:.1f}" y="{y:.1f}" width="{bar - 2:.1f}" '
                f'height="{height:.1f}" fill="{colour}"><title>{hour:%H}:00 UTC: {count} '
                f"{escape(label)}</title></rect>"
            )
    done = {label: sum(counted.get((h, s), 0) for h in hours) for s, label, _ in OUTCOMES}
    body += _legend([(label, colour) for _, label, colour in OUTCOMES if done[label]])
    summary = ", ".join(f"{count} {label}" for label, count in done.items() if count) or "none"
    title = "Webhook deliveries per hour, last 24 hours"
    return Chart(title, _frame(body, peak, "", hours, title), f"{title}: {summary}.")


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def latency(delivered: Sequence[Delivered], now: datetime) -> Chart:
    """Lines: each hour's median and 95th percentile from commit to delivery."""
    hours = _hours(now)
    by_hour: dict[datetime, list[float]] = {hour: [] for hour in hours}
    for item in delivered:
        hour = item.at.replace(minute=0, second=0, microsecond=0)
        if hour in by_hour:
            by_hour[hour].append(item.seconds)
    p50 = {h: statistics.median(v) for h, v in by_hour.items() if v}
    p95 = {h: _percentile(v, 0.95) for h, v in by_hour.items() if v}
    peak = _ceiling(max([*p95.values(), 0.01]))
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    body = []
    for values, colour, label in ((p95, "#d1495b", "p95"), (p50, "#2e9d6f", "median")):
        points = []
        for index, hour in enumerate(hours):
            if hour in values:
                x = LEFT + plot_w * (index + 0.5) / len(hours)
                y = TOP + plot_h - plot_h * values[hour] / peak
                points.append(f"{x:.1f},{y:.1f}")
                body.append(
                    f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>'
                    f"{hour:%H}:00 UTC {label}: {values[hour]:.2f} s</title></circle>"
                )
        if len(points) > 1:
            body.append(
                f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" '
                'stroke-width="2"/>'
            )
    body += _legend([("median", "#2e9d6f"), ("95th percentile", "#d1495b")])
    title = "Commit to delivery, last 24 hours (median and 95th percentile)"
    if delivered:
        all_seconds = [item.seconds for item in delivered]
        summary = (
            f"{title}: {len(all_seconds)} deliveries, median {statistics.median(all_seconds):.2f}"
            f" s, 95th percentile {_percentile(all_seconds, 0.95):.2f} s."
        )
    else:
        summary = f"{title}: no delivery yet."
    return Chart(title, _frame(body, peak, " s", hours, title), summary)
