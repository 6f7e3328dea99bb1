"""Draws the six tiles in a terminal: number, threshold colour, trend."""

from __future__ import annotations

import math

from .tiles import Tile

_SPARK = "▁▂▃▄▅▆▇█"
_COLOURS = {"ok": "\033[32m", "warning": "\033[33m", "critical": "\033[31m", "none": "\033[90m",
            "warming": "\033[90m"}
#: Redraw in place: the terminal's alternate screen (no scrollback), the cursor hidden while it runs.
ENTER_SCREEN, LEAVE_SCREEN, HOME = "\033[?1049h\033[?25l", "\033[?25h\033[?1049l", "\033[H"
_CLEAR_LINE, _CLEAR_BELOW = "\033[K", "\033[J"
_RESET = "\033[0m"
_WIDTH = 26


def fmt(tile: Tile) -> str:
    value = tile.value
    if value is None:
        return "—"
    if math.isnan(value):
        return "no data yet"
    if tile.unit == "%":
        return f"{value * 100:+.1f}%" if tile.vital.id == "kpi_delta" else f"{value * 100:.2f}%"
    if tile.unit == "$":
        return f"${value:.4f}" if value < 1 else f"${value:,.2f}"
    if tile.unit == "s":
        return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"
    if tile.unit == "duration":
        return f"{value / 60:.0f} min" if value < 3600 else f"{value / 3600:.1f} h"
    return f"{value:.3g}"


def threshold_text(tile: Tile) -> str:
    """The warning threshold in the tile's units, e.g. 'warn > 2.00 s'."""
    if not tile.vital.thresholds or tile.vital.thresholds[0].warning is None:
        return ""
    threshold = tile.vital.thresholds[0]
    shown = Tile(tile.position, tile.title, tile.unit, tile.vital, tile.feeder, tile.compute, value=threshold.warning)
    return f"warn {threshold.comparison.value} {fmt(shown)}"


def sparkline(values: list[float]) -> str:
    if not values:
        return ""
    low, high = min(values), max(values)
    span = high - low
    return "".join(_SPARK[0 if span == 0 else int((v - low) / span * (len(_SPARK) - 1))] for v in values)


def render(tiles: list[Tile], header: str, footer: str, colour: bool = True) -> str:
    """The whole screen as text."""
    lines = [header, ""]
    for row in (tiles[:3], tiles[3:]):
        boxes = []
        for tile in row:
            state = tile.state()
            number = fmt(tile)
            label = {"none": "", "ok": "OK", "warning": "WARN", "critical": "CRIT", "warming": ""}[state]
            if tile.value is None:
                detail, note = "fed by the sidecar's", tile.feeder
            elif state == "warming":
                detail, note = "warming up", f"{tile.seen[0]:,.0f} of {tile.seen[1]:,.0f} events"
            else:
                detail, note = sparkline(list(tile.history))[-_WIDTH:], threshold_text(tile)
            if colour:
                number = f"{_COLOURS[state]}{number:<{_WIDTH - 5}}{label:>5}{_RESET}"
            else:
                number = f"{number:<{_WIDTH - 5}}{label:>5}"
            boxes.append([f"{tile.position}. {tile.title}"[:_WIDTH], number, detail[:_WIDTH], note[:_WIDTH]])
        for index in range(4):
            cells = []
            for box in boxes:
                text = box[index]
                visible = len(text) - (len(_COLOURS["ok"]) + len(_RESET) if colour and index == 1 else 0)
                cells.append(text + " " * max(_WIDTH - visible, 0))
            lines.append("  " + " │ ".join(cells))
        lines.append("")
    lines.append(footer)
    return "\n".join(lines)


def frame(text: str) -> str:
    """``text`` drawn over the previous frame: home, each line cleared to its end, the rest below cleared."""
    return HOME + "\n".join(line + _CLEAR_LINE for line in text.split("\n")) + _CLEAR_BELOW


def plain_line(tiles: list[Tile], clock_text: str) -> str:
    """One line per refresh for scripts: tile=value(state)."""
    parts = [f"sim {clock_text}"]
    for tile in tiles:
        state = tile.state()
        parts.append(f"{tile.vital.id}={fmt(tile)}" + (f" ({state})" if state != "none" else ""))
    return " | ".join(parts)
