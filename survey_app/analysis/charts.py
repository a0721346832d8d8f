"""Charts in the house style, one per question, with a text alternative for each.

Figures are built with ``matplotlib.figure.Figure`` directly, never pyplot,
which keeps a global registry of figures and leaks memory in long-running
processes (matplotlib's own "embedding in a web application server" advice).

House style: horizontal bars (long answer labels stay readable on a phone),
the Okabe-Ito colour-blind-safe palette, the figure written beside every bar
so that nothing depends on colour, a 95% confidence interval as a whisker on
every bar, a dash for a figure disclosure control hides, no chart junk.
Charts plot only published (protected) figures: never raw answers.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers; set before any figure is drawn
from matplotlib.figure import Figure  # noqa: E402

from ..questionnaire.question_types import of_published_item  # noqa: E402

# Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
SUBSTANTIVE_COLOUR = OKABE_ITO[0]
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


# Every word a chart or its text alternative adds, per language (the analysis has no Flask, so no
# gettext catalogue: the few phrases are kept here).
PHRASES = {
    "en": {
        "multi_axis": "Percent of those who answered (more than one answer allowed), with 95% CI",
        "percent_axis": "Percent of substantive answers, with 95% CI",
        "score_axis": "Score 0-100, with 95% CI",
        "mean_axis": "Mean, with 95% CI",
        "everyone": "Everyone",
        "not_shown": "{label} not shown (withheld to protect privacy)",
        "ci": "{label} {value} (95% CI {low} to {high})",
        "mean_alt": "Bar chart of the mean of “{text}”: {parts}.",
        "bar": "Bar chart",
        "bar_multi": "Bar chart, more than one answer allowed",
        "first_axis": "Percent of those who answered who ranked it first, with 95% CI",
        "bar_first": "Bar chart of first choices",
        "answers_alt": "{kind} of {n} answers to “{text}”: {parts}.",
    },
    "es": {
        "multi_axis": "Porcentaje de quienes respondieron (se permitía más de una respuesta), con IC del 95%",
        "percent_axis": "Porcentaje de las respuestas sustantivas, con IC del 95%",
        "score_axis": "Puntuación de 0 a 100, con IC del 95%",
        "mean_axis": "Promedio, con IC del 95%",
        "everyone": "Todos",
        "not_shown": "{label}: no se muestra (para proteger la privacidad)",
        "ci": "{label} {value} (IC del 95%: {low} a {high})",
        "mean_alt": "Gráfico de barras del promedio de “{text}”: {parts}.",
        "bar": "Gráfico de barras",
        "bar_multi": "Gráfico de barras, se permitía más de una respuesta",
        "first_axis": "Porcentaje de quienes respondieron que lo pusieron en primer lugar, con IC del 95%",
        "bar_first": "Gráfico de barras de las primeras opciones",
        "answers_alt": "{kind} de {n} respuestas a “{text}”: {parts}.",
    },
}


def _wrap(label: str, width: int = 28) -> str:
    return "\n".join(textwrap.wrap(label, width)) or label


def _format_percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}%"


def _bars(title: str, labels: list[str], rows: list[dict], xlabel: str, percent: bool) -> Figure:
    """Horizontal bars with 95% CI whiskers; a hidden (suppressed) figure is a dash and no bar."""
    with matplotlib.rc_context(STYLE):
        height = 0.5 * len(rows) + 1.5
        figure = Figure(figsize=(7.5, height), dpi=100, layout="constrained")
        axes = figure.add_subplot()
        positions = list(range(len(rows)))[::-1]  # first at the top
        values = [r["estimate"] if r["estimate"] is not None else 0.0 for r in rows]
        shown = [r["estimate"] is not None for r in rows]
        axes.barh(positions, values, color=SUBSTANTIVE_COLOUR, height=0.65)
        for position, row in zip(positions, rows):
            if row["estimate"] is not None and row.get("lci") is not None:
                below = max(row["estimate"] - row["lci"], 0.0)  # 0, not -1e-15, at p = 0 or 1
                above = max(row["uci"] - row["estimate"], 0.0)
                axes.errorbar(row["estimate"], position, xerr=[[below], [above]],
                              fmt="none", ecolor=TEXT_COLOUR, elinewidth=1, capsize=3)
        top = max([r["uci"] for r, s in zip(rows, shown) if s and r.get("uci") is not None] + values + [1.0])
        for position, row, is_shown in zip(positions, rows, shown):
            end = row["uci"] if is_shown and row.get("uci") is not None else row["estimate"] or 0.0
            text = (_format_percent(row["estimate"]) if percent else f"{row['estimate']:.1f}") if is_shown else "–"
            axes.text(end + top * 0.015, position, text, va="center", ha="left", color=TEXT_COLOUR)
        axes.set_yticks(positions, [_wrap(label) for label in labels])
        axes.set_xlim(0, top * 1.18)
        axes.set_xlabel(xlabel)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        axes.set_title(_wrap(title, 70), loc="left", fontsize=FONT_SIZE + 1, color=TEXT_COLOUR)
    return figure


def option_rows(question: dict) -> list[dict]:
    return [r for r in question["estimates"]["overall"] if r["statistic"] == "percent"]


def bar_chart(question: dict, language: str = "en") -> Figure:
    """Weighted percent per answer with 95% CIs (don't know and prefer not to say left out)."""
    words = PHRASES[language]
    rows = option_rows(question)
    labels = [question["labels"][str(r["option"])] for r in rows]
    xlabel = words[of_published_item(question).chart_words[0]]
    return _bars(question["text"], labels, rows, xlabel, percent=True)


def group_chart(item: dict, language: str = "en") -> Figure:
    """The mean (numbers, indices) overall and by the first breakdown, with 95% CIs."""
    words = PHRASES[language]
    rows, labels = _group_rows(item, language)
    xlabel = words["score_axis"] if item.get("type") == "index" else words["mean_axis"]
    return _bars(item["text"], labels, rows, xlabel, percent=False)


def _group_rows(item: dict, language: str = "en") -> tuple[list[dict], list[str]]:
    overall = [r for r in item["estimates"]["overall"] if r["statistic"] == "mean"]
    rows, labels = list(overall), [PHRASES[language]["everyone"]]
    if item["estimates"]["breakdowns"]:
        breakdown = item["estimates"]["breakdowns"][0]
        names = {g["code"]: g["label"] for g in breakdown["groups"]}
        for row in breakdown["rows"]:
            if row["statistic"] == "mean":
                rows.append(row)
                labels.append(names[row["group"]])
    return rows, labels


def _describe(label: str, row: dict, percent: bool, language: str = "en") -> str:
    words = PHRASES[language]
    if row["estimate"] is None:
        return words["not_shown"].format(label=label)
    value = _format_percent(row["estimate"]) if percent else f"{row['estimate']:.1f}"
    low = _format_percent(row["lci"]) if percent else f"{row['lci']:.1f}"
    high = _format_percent(row["uci"]) if percent else f"{row['uci']:.1f}"
    return words["ci"].format(label=label, value=value, low=low, high=high)


def alt_text(question: dict, language: str = "en") -> str:
    """A sentence a screen reader can read instead of the chart."""
    words = PHRASES[language]
    if of_published_item(question).chart == "means":
        rows, labels = _group_rows(question, language)
        parts = "; ".join(_describe(label, row, False, language) for label, row in zip(labels, rows))
        return words["mean_alt"].format(text=question["text"], parts=parts)
    rows = option_rows(question)
    n = rows[0]["n"] if rows and rows[0]["n"] is not None else 0
    parts = "; ".join(_describe(question["labels"][str(r["option"])], r, True, language) for r in rows)
    kind = words[of_published_item(question).chart_words[1]]
    return words["answers_alt"].format(kind=kind, n=f"{n:,}", text=question["text"], parts=parts)


def save(figure: Figure, directory: Path, name: str) -> dict[str, str]:
    """Write PNG (download) and SVG (page); return the file names."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {}
    # The SVG settings (hash salt, text as text) are read at save time.
    with matplotlib.rc_context(STYLE):
        # Lay the figure out once, then freeze it: otherwise constrained layout runs
        # again for every format (measured: half the time of a chart).
        figure.draw_without_rendering()
        figure.set_layout_engine("none")
        for fmt in ("svg", "png"):
            path = directory / f"{name}.{fmt}"
            metadata = {"Date": None} if fmt == "svg" else {"Software": None}
            figure.savefig(path, format=fmt, metadata=metadata)
            files[fmt] = path.name
    return files
