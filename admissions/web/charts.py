"""Server-side chart geometry for the dashboard; templates draw it as inline SVG (no scripts)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    """One bar: position, size and labels, in SVG user units."""

    x: float
    y: float
    width: float
    height: float
    label: str
    value: int
    label_x: float
    label_y: float


@dataclass(frozen=True)
class Chart:
    """A whole chart: its viewBox size, bars, and a maximum for the axis label."""

    width: int
    height: int
    bars: list[Bar]
    maximum: int
    title: str


def column_chart(
    points: list[tuple[str, int]], *, title: str, width: int = 720, height: int = 220
) -> Chart:
    """Vertical bars (e.g. conversations per day); labels under every bar."""
    top, bottom, left, right = 20, 40, 30, 10
    plot_w, plot_h = width - left - right, height - top - bottom
    maximum = max((v for _, v in points), default=0)
    step = plot_w / max(len(points), 1)
    bars = []
    for i, (label, value) in enumerate(points):
        h = 0.0 if maximum == 0 else plot_h * value / maximum
        x = left + i * step + step * 0.15
        bars.append(
            Bar(
                x=round(x, 1),
                y=round(top + plot_h - h, 1),
                width=round(step * 0.7, 1),
                height=round(h, 1),
                label=label,
                value=value,
                label_x=round(x + step * 0.35, 1),
                label_y=height - bottom + 16,
            )
        )
    return Chart(width=width, height=height, bars=bars, maximum=maximum, title=title)


def funnel_chart(
    stages: list[tuple[str, int]], *, title: str, width: int = 720, row: int = 44
) -> Chart:
    """Horizontal centred bars narrowing stage by stage."""
    left_label = 230
    plot_w = width - left_label - 60
    maximum = max((v for _, v in stages), default=0)
    bars = []
    for i, (label, value) in enumerate(stages):
        w = 0.0 if maximum == 0 else plot_w * value / maximum
        x = left_label + (plot_w - w) / 2
        y = 10 + i * row
        bars.append(
            Bar(
                x=round(x, 1),
                y=y,
                width=round(w, 1),
                height=row - 10,
                label=label,
                value=value,
                label_x=10,
                label_y=y + (row - 10) / 2 + 5,
            )
        )
    return Chart(
        width=width, height=20 + len(stages) * row, bars=bars, maximum=maximum, title=title
    )


def percent(part: int, whole: int) -> str:
    """``part`` of ``whole`` as a whole-number percentage string."""
    return "—" if whole == 0 else f"{round(100 * part / whole)}%"
