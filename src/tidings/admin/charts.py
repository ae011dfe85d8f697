"""Small charts as inline SVG, drawn on the server: the admin pages need no JavaScript.

The site's Content-Security-Policy allows no inline style, so nothing here writes a `style`
attribute: colours and sizes are SVG presentation attributes (`fill`, `stroke`, `height`), which
are not CSS and which the policy does not cover. Every chart is `role="img"` with a summary as its
accessible name, and each bar carries a `<title>` (a tooltip); the pages put the same numbers in a
table next to the chart for screen readers and text browsers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

from tidings.admin.stats import Bucket
from tidings.ingest.models import FetchLog

BAR = "#2563eb"
ERROR = "#dc2626"
MUTED = "#9ca3af"
OK = "#16a34a"
OUTCOME_FILLS = {"ok": OK, "not_modified": MUTED, "error": ERROR}


def _fmt(number: float) -> str:
    return f"{number:.2f}".rstrip("0").rstrip(".")


def bar_chart(
    values: Sequence[int | float],
    *,
    label: str,
    titles: Sequence[str] | None = None,
    overlay: Sequence[int | float] | None = None,
    fills: Sequence[str] | None = None,
    width: int = 480,
    height: int = 120,
) -> Markup:
    """Vertical bars scaled to the largest value. `overlay` (errors within polls) is drawn in red
    over the bottom of each bar; `fills` gives each bar its own colour (poll outcomes)."""
    count = max(len(values), 1)
    peak = max([*values, 1])
    slot = width / count
    gap = min(2.0, slot / 4)
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'preserveAspectRatio="none" role="img" aria-label="{escape(label)}">',
        f'<line x1="0" y1="{height - 0.5}" x2="{width}" y2="{height - 0.5}" stroke="{MUTED}" stroke-width="1"/>',
    ]
    for n, value in enumerate(values):
        bar_height = height * value / peak
        x, y = n * slot + gap / 2, height - bar_height
        fill = fills[n] if fills is not None and n < len(fills) else BAR
        title = f"<title>{escape(titles[n])}</title>" if titles is not None and n < len(titles) else ""
        parts.append(
            f'<rect x="{_fmt(x)}" y="{_fmt(y)}" width="{_fmt(slot - gap)}" height="{_fmt(bar_height)}" '
            f'fill="{escape(fill)}">{title}</rect>'
        )
        if overlay is not None and n < len(overlay) and overlay[n]:
            over = height * overlay[n] / peak
            parts.append(
                f'<rect x="{_fmt(x)}" y="{_fmt(height - over)}" width="{_fmt(slot - gap)}" '
                f'height="{_fmt(over)}" fill="{ERROR}">{title}</rect>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text part went through escape(); the rest are numbers)


def sparkline(values: Sequence[int | float], *, label: str, width: int = 112, height: int = 24) -> Markup:
    """A line through the values (articles per day), with a dot on the latest one."""
    peak = max([*values, 1])
    step = width / max(len(values) - 1, 1)
    inner = height - 4  # room for the stroke at the top and bottom
    points = [(n * step, 2 + inner - inner * value / peak) for n, value in enumerate(values)]
    parts = [
        f'<svg class="sparkline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(label)}">'
    ]
    if points:
        joined = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in points)
        parts.append(f'<polyline points="{joined}" fill="none" stroke="{BAR}" stroke-width="1.5"/>')
        last_x, last_y = points[-1]
        parts.append(f'<circle cx="{_fmt(last_x)}" cy="{_fmt(last_y)}" r="2" fill="{BAR}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text part went through escape(); the rest are numbers)


def outcome_fill(outcome: str) -> str:
    return OUTCOME_FILLS.get(outcome, MUTED)


def hourly_chart(buckets: Sequence[Bucket], *, label: str, with_errors: bool = False) -> Markup:
    """Bars per UTC hour; with `with_errors`, the failed part of each bar in red."""
    titles = [
        f"{b.start:%m-%d %H:00} UTC: {b.count}" + (f" ({b.errors} ✗)" if with_errors and b.errors else "")
        for b in buckets
    ]
    overlay = [b.errors for b in buckets] if with_errors else None
    return bar_chart([b.count for b in buckets], label=label, titles=titles, overlay=overlay)


def polls_chart(logs: Sequence[FetchLog], *, label: str) -> Markup:
    """Poll durations, oldest first, each bar coloured by its outcome."""
    ordered = list(reversed(logs))
    return bar_chart(
        [max(log.duration_ms, 1) for log in ordered],
        label=label,
        titles=[f"{log.started_at:%m-%d %H:%M} UTC: {log.outcome}, {log.duration_ms} ms" for log in ordered],
        fills=[outcome_fill(log.outcome) for log in ordered],
        height=80,
    )


def status_chart(counts: Mapping[str, int], *, label: str) -> Markup:
    fills = {"ok": OK, "failing": ERROR, "disabled": MUTED, "new": BAR}
    names = list(counts)
    return bar_chart(
        [counts[name] for name in names],
        label=label,
        titles=[f"{name}: {counts[name]}" for name in names],
        fills=[fills.get(name, BAR) for name in names],
        width=160,
        height=80,
    )
