"""A results document (``results.json`` of the analysis, or of a published version) as the
public page reads it: typed items with the survey's own wording already in the page's language
(its translations from analysis/localize.py, English where a text has none).

The JSON stays the stored and published format (open data shows it as it is); this is only how
the page reads it, so that a template says ``item.text``, ``item.label(4)``,
``breakdown.group_name(2)`` and ``item.chart.alt`` rather than looking through nested dicts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..analysis.localize import VARIABLE_NAMES


@dataclass(frozen=True)
class Chart:
    svg: str
    png: str
    alt: str


@dataclass(frozen=True)
class Breakdown:
    """One item's figures by the groups of a breakdown variable (district, age band...)."""

    variable: str
    groups: dict[Any, str]  # group code -> its name
    rows: list[dict]  # estimate records (statistic, option, group, estimate, lci, uci, n, suppressed)
    gaps: list[dict]  # differences between groups, with their significance

    def group_name(self, code) -> str:
        return self.groups.get(code, str(code))


@dataclass(frozen=True)
class Component:
    """A question an index is made of."""

    code: str
    text: str
    reverse_coded: bool


@dataclass(frozen=True)
class Item:
    """A question or an index with its published figures."""

    code: str
    text: str
    type: str
    kind: str
    is_index: bool
    labels: dict[str, str]  # option code (as text) -> its label
    option_codes: list[int]
    top: list[str]  # the favourable end of a scale (option codes as text); empty if none
    overall: list[dict]  # estimate records for everyone
    breakdowns: list[Breakdown]
    chart: Chart | None
    components: list[Component] = field(default_factory=list)  # an index's questions
    min_items: int | None = None
    alpha: float | None = None
    ranks: int | None = None  # a ranking's places
    coding: dict | None = None  # the themes of a written question: how its answers were coded
    quotes: list[dict] = field(default_factory=list)  # residents' words a person approved: text, language

    def label(self, option) -> str:
        return self.labels.get(str(option), str(option))

    @property
    def question_type(self):
        """Its type, which says how the page shows it (an index is shown as a number's mean)."""
        from ..questionnaire.question_types import of_published_item

        return of_published_item({"type": self.type})


@dataclass(frozen=True)
class Trend:
    code: str
    text: str
    series: list[dict]


@dataclass(frozen=True)
class ResultsDocument:
    title: str
    suppressed: bool
    weighted: bool
    min_cell_size: int
    n_responses: int
    generated_at: str
    methodology: dict
    questions: list[Item]
    indices: list[Item]
    trends: list[Trend]
    variables: dict[str, str]  # breakdown and weighting variable -> its name
    question_texts: dict[str, str]  # every question's text by code (notes on answers left out)

    @property
    def shown_questions(self) -> list[Item]:
        """The questions the page shows: a written question whose answers were coded is shown
        by its themes item alone (its own section would only say its words are not published)."""
        themed = {q.code for q in self.questions if q.coding}
        return [q for q in self.questions if q.code + "_themes" not in themed]

    @property
    def coded(self) -> list[Item]:
        """The themes items (written answers coded by staff)."""
        return [q for q in self.questions if q.coding]

    def variable_name(self, variable: str) -> str:
        return self.variables.get(variable) or VARIABLE_NAMES["en"].get(variable, variable.replace("_", " "))

    def variable_names(self, variables) -> str:
        return ", ".join(self.variable_name(v) for v in variables)

    def question_text(self, code: str, fallback: str = "") -> str:
        return self.question_texts.get(code) or fallback or code


def read(results: dict, language: str = "en") -> ResultsDocument:
    """The document in ``language`` (its wording where the results were translated into it)."""
    block = (results.get("translations") or {}).get(language) if language != "en" else None
    block = block or {}
    words = block.get("items", {})
    group_words = block.get("groups", {})

    def text(item: dict) -> str:
        return words.get(item.get("code"), {}).get("text") or item.get("label") or item.get("text") or ""

    def labels(item: dict) -> dict[str, str]:
        own = {code: label for code, label in words.get(item.get("code"), {}).get("labels", {}).items() if label}
        return {**(item.get("labels") or {}), **own}

    def chart(item: dict) -> Chart | None:
        if not item.get("chart"):
            return None
        own = words.get(item["code"], {})
        files, alt = (own["chart"], own.get("chart_alt")) if own.get("chart") else (item["chart"], item.get("chart_alt"))
        return Chart(svg=files["svg"], png=files["png"], alt=alt or "")

    def breakdown(entry: dict) -> Breakdown:
        names = {group["code"]: group["label"] for group in entry.get("groups", [])}
        localized = group_words.get(entry["variable"], {})
        return Breakdown(variable=entry["variable"], rows=entry.get("rows") or [], gaps=entry.get("gaps") or [],
                         groups={code: localized.get(str(code)) or name for code, name in names.items()})

    def item(entry: dict, is_index: bool) -> Item:
        estimates = entry.get("estimates") or {}
        return Item(
            code=entry["code"], text=text(entry), type=entry.get("type", ""), kind=entry.get("kind", ""),
            is_index=is_index, labels=labels(entry), option_codes=list(entry.get("option_codes") or []),
            top=list(entry.get("top") or []), overall=estimates.get("overall") or [],
            breakdowns=[breakdown(b) for b in estimates.get("breakdowns") or []], chart=chart(entry),
            components=[Component(i["code"], text(i), bool(i.get("reverse_coded"))) for i in entry.get("items") or []],
            min_items=entry.get("min_items"), alpha=entry.get("alpha"), ranks=entry.get("ranks"),
            coding=entry.get("coding"), quotes=list(entry.get("quotes") or []))

    questions = [item(q, False) for q in results.get("questions") or []]
    return ResultsDocument(
        title=block.get("title") or (results.get("survey") or {}).get("title", ""),
        suppressed=bool(results.get("suppressed")), weighted=bool(results.get("weighted")),
        min_cell_size=results.get("min_cell_size", 10), n_responses=results.get("n_responses", 0),
        generated_at=results.get("generated_at", ""), methodology=results.get("methodology") or {},
        questions=questions, indices=[item(i, True) for i in results.get("indices") or []],
        trends=[Trend(t["code"], text(t), t.get("series") or []) for t in results.get("trends") or []],
        variables=dict(block.get("variables") or {}),
        question_texts={q.code: q.text for q in questions})
