"""Figures as a text table, as Markdown, and as a small hand-drawn SVG chart."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape


@dataclass
class Stat:
    """Median, min and max of repeated measurements (seconds, MB, counts...)."""

    values: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def min(self) -> float:
        return min(self.values)

    @property
    def max(self) -> float:
        return max(self.values)


@dataclass
class Row:
    section: str
    name: str
    median: str
    low: str = ""
    high: str = ""
    target: str = ""
    verdict: str = ""  # PASS, MISS or ""
    note: str = ""


@dataclass
class Table:
    rows: list[Row] = field(default_factory=list)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        return row

    @property
    def misses(self) -> list[Row]:
        return [r for r in self.rows if r.verdict == "MISS"]

    HEADERS = ("measure", "median", "min", "max", "target", "")

    def _cells(self, row: Row) -> tuple[str, ...]:
        return (row.name, row.median, row.low, row.high, row.target, row.verdict)

    def text(self) -> str:
        widths = [len(h) for h in self.HEADERS]
        for row in self.rows:
            for i, cell in enumerate(self._cells(row)):
                widths[i] = max(widths[i], len(cell))
        right = {1, 2, 3}

        def line(cells: Sequence[str]) -> str:
            return "  ".join(
                c.rjust(widths[i]) if i in right else c.ljust(widths[i])
                for i, c in enumerate(cells)
            ).rstrip()

        out = [line(self.HEADERS), line(["-" * w for w in widths])]
        section = None
        for row in self.rows:
            if row.section != section:
                section = row.section
                out.append(f"[{section}]")
            out.append(line(self._cells(row)))
            if row.note:
                out.append(" " * 4 + row.note)
        return "\n".join(out)

    def markdown(self) -> str:
        out: list[str] = []
        section = None
        for row in self.rows:
            if row.section != section:
                section = row.section
                out += ["", f"### {section}", ""]
                out.append("| measure | median | min | max | target | |")
                out.append("|---|--:|--:|--:|---|---|")
            name = row.name + (f" <br><sub>{escape(row.note)}</sub>" if row.note else "")
            verdict = f"**{row.verdict}**" if row.verdict == "MISS" else row.verdict
            out.append(
                f"| {name} | {row.median} | {row.low} | {row.high} | {row.target} | {verdict} |"
            )
        return "\n".join(out).lstrip("\n")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.0f} us"


def secs(seconds: float) -> str:
    return f"{seconds:.2f} s"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


# -- chart -------------------------------------------------------------------------------------

COLOURS = {
    "provider apply": "#1f77b4",
    "provider plan": "#ff7f0e",
    "terraform_data apply": "#1f77b4",
    "terraform_data plan": "#ff7f0e",
}


def svg_chart(sizes: Sequence[int], series: Mapping[str, Sequence[float]], title: str) -> str:
    """Wall time (median) against N, one line per series; floor series are dashed."""
    width, height = 640, 400
    left, right, top, bottom = 70, 190, 40, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    x_max = max(sizes) * 1.05 if sizes else 1.0
    y_top = max((v for vals in series.values() for v in vals), default=1.0)
    step = _nice_step(y_top / 5)
    y_max = step * (int(y_top / step) + 1)

    def x(n: float) -> float:
        return left + plot_w * n / x_max

    def y(v: float) -> float:
        return top + plot_h * (1 - v / y_max)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="22" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]
    # grid and y ticks
    tick = 0.0
    while tick <= y_max + 1e-9:
        ty = y(tick)
        parts.append(
            f'<line x1="{left}" y1="{ty:.1f}" x2="{left + plot_w}" y2="{ty:.1f}" stroke="#e5e5e5"/>'
        )
        parts.append(f'<text x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end">{tick:g} s</text>')
        tick += step
    # x ticks at the measured sizes
    for n in sizes:
        tx = x(n)
        parts.append(
            f'<line x1="{tx:.1f}" y1="{top + plot_h}" x2="{tx:.1f}" y2="{top + plot_h + 5}" '
            'stroke="black"/>'
        )
        parts.append(f'<text x="{tx:.1f}" y="{top + plot_h + 18}" text-anchor="middle">{n}</text>')
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 12}" text-anchor="middle">'
        "N (resources)</text>"
    )
    parts.append(
        f'<text transform="translate(16 {top + plot_h / 2:.1f}) rotate(-90)" '
        'text-anchor="middle">wall time (median)</text>'
    )
    parts.append(
        f'<path d="M{left} {top} V{top + plot_h} H{left + plot_w}" fill="none" stroke="black"/>'
    )
    # series
    for i, (name, values) in enumerate(series.items()):
        colour = COLOURS.get(name, "#2ca02c")
        dash = ' stroke-dasharray="6 4"' if name.startswith("terraform_data") else ""
        points = [(x(n), y(v)) for n, v in zip(sizes, values, strict=True)]
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>'
        )
        for px, py in points:
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>')
        ly = top + 10 + i * 20
        lx = left + plot_w + 15
        parts.append(
            f'<line x1="{lx}" y1="{ly}" x2="{lx + 28}" y2="{ly}" stroke="{colour}" '
            f'stroke-width="2"{dash}/>'
        )
        parts.append(f'<text x="{lx + 34}" y="{ly + 4}">{escape(name)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _nice_step(raw: float) -> float:
    if raw <= 0:
        return 1.0
    magnitude = 10.0 ** _floor_log10(raw)
    for mult in (1.0, 2.0, 2.5, 5.0, 10.0):
        if raw <= mult * magnitude:
            return mult * magnitude
    return 10.0 * magnitude


def _floor_log10(value: float) -> int:
    exponent = 0
    while value >= 10:
        value /= 10
        exponent += 1
    while value < 1:
        value *= 10
        exponent -= 1
    return exponent
