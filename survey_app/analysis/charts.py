"""Charts in the house style, one per question, with a text alternative for each.

Figures are built with ``matplotlib.figure.Figure`` directly, never pyplot,
which keeps a global registry of figures and leaks memory in long-running
processes (matplotlib's own "embedding in a web application server" advice).

House style: horizontal bars (long answer labels stay readable on a phone),
the Okabe-Ito colour-blind-safe palette, the percentage written on every bar
so that nothing depends on colour, "don't know"-type answers in grey with a
hatch and their label saying what they are, no chart junk.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers; set before any figure is drawn
from matplotlib.figure import Figure  # noqa: E402

# Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
SUBSTANTIVE_COLOUR = OKABE_ITO[0]
MISSING_COLOUR = "#9A9A9A"
TEXT_COLOUR = "#1A1A1A"
FONT_SIZE = 10

STYLE = {
    "font.size": FONT_SIZE,
    "font.family": "DejaVu Sans",
    "axes.edgecolor": "#555555",
    "axes.labelcolor": TEXT_COLOUR,
    "xtick.color": TEXT_COLOUR,
    "ytick.color": TEXT_COLOUR,
    "svg.fonttype": "none",  # keep text as text in SVG: selectable, searchable, smaller
    "svg.hashsalt": "survey-app",  # identical input -> byte-identical SVG
}


def _wrap(label: str, width: int = 28) -> str:
    return "\n".join(textwrap.wrap(label, width)) or label


def _format_percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}%"


def bar_chart(question: dict) -> Figure:
    """Horizontal bars of the percent of respondents per answer."""
    rows = question["table"]
    with matplotlib.rc_context(STYLE):
        height = 0.5 * len(rows) + 1.4
        figure = Figure(figsize=(7.5, height), dpi=100, layout="constrained")
        axes = figure.add_subplot()
        labels = [_wrap(r["label"]) for r in rows]
        values = [r["percent"] or 0.0 for r in rows]
        colours = [MISSING_COLOUR if r["missing_code"] else SUBSTANTIVE_COLOUR for r in rows]
        positions = list(range(len(rows)))[::-1]  # first option at the top
        bars = axes.barh(positions, values, color=colours, height=0.65)
        for bar, row in zip(bars, rows):
            if row["missing_code"]:
                bar.set_hatch("//")
                bar.set_edgecolor("#FFFFFF")
        top = max(values + [1.0])
        for position, value, row in zip(positions, values, rows):
            axes.text(value + top * 0.01, position, _format_percent(row["percent"]),
                      va="center", ha="left", color=TEXT_COLOUR)
        axes.set_yticks(positions, labels)
        axes.set_xlim(0, top * 1.15)
        axes.set_xlabel(
            "Percent of those who answered (more than one answer allowed)"
            if question["kind"] == "multi" else "Percent of those who answered"
        )
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        axes.set_title(_wrap(question["text"], 70), loc="left", fontsize=FONT_SIZE + 1, color=TEXT_COLOUR)
    return figure


def histogram(question: dict, values) -> Figure:
    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(7.5, 3.2), dpi=100, layout="constrained")
        axes = figure.add_subplot()
        axes.hist(values, bins=20, color=SUBSTANTIVE_COLOUR, edgecolor="#FFFFFF")
        axes.set_xlabel("Answer")
        axes.set_ylabel("Respondents")
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        axes.set_title(_wrap(question["text"], 70), loc="left", fontsize=FONT_SIZE + 1, color=TEXT_COLOUR)
    return figure


def alt_text(question: dict) -> str:
    """A sentence a screen reader can read instead of the chart."""
    if question["kind"] == "numeric":
        s = question["summary"]
        if not s.get("n_valid"):
            return f"Histogram for “{question['text']}”: no answers."
        return (f"Histogram of {s['n_valid']} answers to “{question['text']}”: "
                f"median {s['median']:g}, middle half from {s['q1']:g} to {s['q3']:g}, "
                f"range {s['min']:g} to {s['max']:g}.")
    parts = "; ".join(f"{r['label']} {_format_percent(r['percent'])}" for r in question["table"])
    kind = "Bar chart" if question["kind"] != "multi" else "Bar chart, more than one answer allowed"
    return f"{kind} of {question['n_answered']} answers to “{question['text']}”: {parts}."


def save(figure: Figure, directory: Path, name: str) -> dict[str, str]:
    """Write PNG (download) and SVG (page); return the file names."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {}
    # The SVG settings (hash salt, text as text) are read at save time.
    with matplotlib.rc_context(STYLE):
        for fmt in ("svg", "png"):
            path = directory / f"{name}.{fmt}"
            metadata = {"Date": None} if fmt == "svg" else {"Software": None}
            figure.savefig(path, format=fmt, metadata=metadata)
            files[fmt] = path.name
    return files
