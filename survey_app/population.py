"""Population margins staff enter for weighting: read from CSV, checked, stored per survey.

CSV format (a header row, then one row per category; UTF-8, commas)::

    variable,category,population,source
    district,North,44000,Census 2020 table P1
    district,2,38000,Census 2020 table P1
    age_band,16-24,30000,ACS 2024 B01001

* ``variable``: the code of a single-choice or dropdown question of the survey.
* ``category``: the option's label (any letter case) or its code.
* ``population``: a count (or a share) of at least 0; thousands separators allowed.
* ``source``: optional, the table the figure comes from; shown in the methodology.

Every option of a variable needs a figure (0 is allowed: raking then gives that
category no weight). A file with any error stores nothing, and the error list
names each row and column at fault. Saving replaces all margins of the survey
in one transaction.
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

from sqlalchemy import delete, select

from .analysis.weighting import Margin
from . import spreadsheet_csv
from .extensions import db
from .models import PopulationMargin, Survey
from .questionnaire.question_types import question_type
from .questionnaire.types import DEMOGRAPHICS, MISSING_CODES

COLUMNS = ("variable", "category", "population", "source")
MAX_ROWS = 10_000


class MarginsError(ValueError):
    """The figures cannot be used; ``errors`` lists every problem, each naming its row and column."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class WeightingVariable:
    code: str
    text: str
    options: tuple[tuple[int, str], ...]  # substantive options only


def weighting_variables(survey: Survey) -> dict[str, WeightingVariable]:
    """The survey's questions that can be weighted on: those tagged as demographics (district, age
    band...: what census tables count) that are single-answer, unordered choice items. Attitude
    items are never offered, whatever their type."""
    variables = {}
    for question in sorted(survey.questions, key=lambda q: q.position):
        if question.construct != DEMOGRAPHICS or not question_type(question.type).breaks_down:
            continue
        options = tuple((o.code, o.label) for o in question.options if o.code not in MISSING_CODES)
        variables[question.code] = WeightingVariable(question.code, question.text, options)
    return variables


def _number(text: str) -> float | None:
    try:
        value = float(text.replace(",", "").replace("_", "").strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_margins_csv(content: str, survey: Survey) -> list[Margin]:
    """Margins from CSV text; MarginsError listing every problem if any."""
    try:
        return _parse_margins_csv(content, survey)
    except csv.Error as error:  # e.g. a cell over the reader's 128 KB: no margins file has one
        raise MarginsError([f"The file cannot be read as CSV ({error}). Check that it is the margins file."]) from None


def _parse_margins_csv(content: str, survey: Survey) -> list[Margin]:
    variables = weighting_variables(survey)
    errors: list[str] = []
    reader = csv.DictReader(io.StringIO(content.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS[:3] if c not in header]
    if missing:
        raise MarginsError([f"Row 1 (header): the column{'s' if len(missing) > 1 else ''} "
                            f"{', '.join(missing)} {'are' if len(missing) > 1 else 'is'} missing; "
                            f"expected {', '.join(COLUMNS)}."])
    reader.fieldnames = header
    figures: dict[str, dict[int, float]] = {}
    sources: dict[str, str] = {}
    for line, row in enumerate(reader, start=2):
        if line > MAX_ROWS + 1:
            errors.append(f"The file has more than {MAX_ROWS} rows.")
            break
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue  # blank line
        name = (row.get("variable") or "").strip()
        variable = variables.get(name)
        if variable is None:
            known = ", ".join(variables) or "none"
            errors.append(f"Row {line}, column variable: '{name}' is not a single-choice question of this "
                          f"survey (these are: {known}).")
            continue
        category = (row.get("category") or "").strip()
        by_label = {label.casefold(): code for code, label in variable.options}
        code = by_label.get(category.casefold())
        if code is None and category.lstrip("-").isdigit() and int(category) in dict(variable.options):
            code = int(category)
        if code is None:
            labels = ", ".join(label for _, label in variable.options)
            errors.append(f"Row {line}, column category: '{category}' is not an option of {name} "
                          f"(options: {labels}).")
            continue
        population = _number(row.get("population") or "")
        if population is None:
            errors.append(f"Row {line}, column population: '{row.get('population') or ''}' is not a number.")
            continue
        if population < 0:
            errors.append(f"Row {line}, column population: {population:g} is negative.")
            continue
        if code in figures.setdefault(name, {}):
            errors.append(f"Row {line}, column category: {name} = '{category}' has a figure already.")
            continue
        figures[name][code] = population
        source = (row.get("source") or "").strip()[:300]
        if source:
            sources.setdefault(name, source)
    for name, given in figures.items():
        absent = [label for code, label in variables[name].options if code not in given]
        if absent:
            errors.append(f"Variable {name}: no figure for {', '.join(absent)} (write 0 if the category "
                          "has no population).")
        elif sum(given.values()) <= 0:
            errors.append(f"Variable {name}: the figures add up to zero.")
    if not figures and not errors:
        errors.append("The file has no figures.")
    if errors:
        raise MarginsError(errors)
    return [Margin(name, given, sources.get(name, "")) for name, given in figures.items()]


def save_margins(survey: Survey, margins: list[Margin], commit: bool = True) -> None:
    """Replace the survey's margins with these, in one transaction (the caller's, if commit is False)."""
    db.session.execute(delete(PopulationMargin).where(PopulationMargin.survey_id == survey.id))
    for margin in margins:
        for code, population in margin.population.items():
            db.session.add(PopulationMargin(survey_id=survey.id, variable=margin.variable, category_code=code,
                                            population=population, source=margin.source))
    if commit:
        db.session.commit()


def margins_csv(survey: Survey) -> str:
    """The survey's stored margins in the CSV format above (labels as categories)."""
    variables = weighting_variables(survey)
    out = io.StringIO()
    writer = spreadsheet_csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    rows = db.session.scalars(select(PopulationMargin).where(PopulationMargin.survey_id == survey.id)
                              .order_by(PopulationMargin.id)).all()
    for row in rows:
        labels = dict(variables[row.variable].options) if row.variable in variables else {}
        writer.writerow([row.variable, labels.get(row.category_code, row.category_code),
                         f"{row.population:g}", row.source])
    return out.getvalue()



def stored_margins(survey: Survey) -> dict[str, dict]:
    """{variable: {"source": str, "population": {code: count}}} as stored."""
    out: dict[str, dict] = {}
    rows = db.session.scalars(select(PopulationMargin).where(PopulationMargin.survey_id == survey.id)
                              .order_by(PopulationMargin.id))
    for row in rows:
        entry = out.setdefault(row.variable, {"source": row.source, "population": {}})
        entry["population"][row.category_code] = row.population
    return out


def margins_from_form(formdata, survey: Survey) -> list[Margin]:
    """Margins from the weighting page: for each variable ticked ``use_<variable>``, a figure
    ``m_<variable>_<code>`` for every category and an optional ``src_<variable>``."""
    errors, margins = [], []
    for name, variable in weighting_variables(survey).items():
        if not formdata.get(f"use_{name}"):
            continue
        figures = {}
        for code, label in variable.options:
            raw = (formdata.get(f"m_{name}_{code}") or "").strip()
            value = _number(raw) if raw else None
            if value is None:
                errors.append(f"{name} = '{label}': " + ("enter the population figure (0 if none)." if not raw
                                                         else f"'{raw}' is not a number."))
            elif value < 0:
                errors.append(f"{name} = '{label}': {value:g} is negative.")
            else:
                figures[code] = value
        if len(figures) == len(variable.options) and sum(figures.values()) <= 0:
            errors.append(f"{name}: the figures add up to zero.")
        margins.append(Margin(name, figures, (formdata.get(f"src_{name}") or "").strip()[:300]))
    if errors:
        raise MarginsError(errors)
    return margins
