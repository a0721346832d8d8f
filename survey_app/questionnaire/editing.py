"""Changes staff make to a questionnaire, checked before they touch the database.

Every edit is validated as a whole: the survey's definition with the change
applied must pass ``survey_from_definition`` (so a display condition can only
point backwards, codes stay unique, options are well formed), and then the
change is applied in place, so that question ids, and the answers stored
against them, stay put.

Once a survey has responses, changes that would corrupt stored data are
refused with the reason: changing a question's type, scale or "don't know" /
"prefer not to say" options, its variable name, removing an option (stored
answers carry its code), or deleting a question or page with answers.
Wording fixes (question text, help text, option labels, titles) are allowed;
the caller records them in the audit log with the text before and after.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from sqlalchemy import exists, func, select

from ..extensions import db
from ..models import Answer, AnswerOption, Page, PopulationMargin, Question, Response, Survey, SurveySeries
from .definition import DefinitionError, definition_from_survey, survey_from_definition
from .question_types import question_type


class EditRefused(ValueError):
    """A change that would corrupt stored responses, or an invalid one; the message says why."""


@dataclass
class Change:
    """What an accepted edit changed, for the audit log."""

    wording: dict = field(default_factory=dict)  # field -> [before, after]
    other: dict = field(default_factory=dict)


def response_count(survey: Survey) -> int:
    return db.session.scalar(select(func.count()).select_from(Response).where(Response.survey_id == survey.id))


def question_has_answers(question: Question) -> bool:
    """Whether any answer is stored for the question (for a matrix: for any of its rows)."""
    ids = [question.id] + [row.id for row in question.rows if row.id is not None]
    return bool(db.session.scalar(select(exists().where(Answer.question_id.in_(ids)))))


def validate_definition(definition: dict) -> None:
    """Raise EditRefused naming the field at fault if the definition is invalid."""
    try:
        survey_from_definition(definition, allow_empty_pages=True)
    except DefinitionError as error:
        raise EditRefused(f"{error.path}: {error.message}") from None


def _locate(definition: dict, code: str) -> tuple[int, int]:
    for p, page in enumerate(definition["pages"]):
        for q, item in enumerate(page["questions"]):
            if item["code"] == code:
                return p, q
    raise KeyError(code)


def _options_of(item: dict) -> list[tuple[int, str]]:
    kind = question_type(item["type"])
    if kind.options_source == "generated":
        return kind.generated_options(kind.check_config(item.get("config", {}), "config"))
    return [(o["code"], o["label"]) for o in item.get("options", [])]


def check_question_change(question: Question, item: dict, answered: bool) -> None:
    """Refuse changes that would misread stored answers (only when the question has answers)."""
    if not answered:
        return
    reasons = []
    if item["code"] != question.code:
        reasons.append(f"its variable name cannot change from '{question.code}' (results and earlier "
                       "waves are matched by it)")
    if item["type"] != question.type:
        reasons.append(f"its type cannot change from {question_type(question.type).label.lower()} "
                       f"to {question_type(item['type']).label.lower()}")
    if item["type"] == question.type:
        reasons += question_type(question.type).locked_settings(question.config or {}, item.get("config", {}))
    if question.rows and item["type"] == question.type:
        kept = {row["code"] for row in item.get("rows", [])}
        gone = [row for row in question.rows if row.code not in kept and question_has_answers(row)]
        if gone:
            reasons.append("statements with answers cannot be removed ("
                           + ", ".join(f"'{row.text}'" for row in gone) + ")")
    new_codes = {code for code, _ in _options_of(item)}
    removed = [o for o in question.options if o.code not in new_codes]
    if removed and item["type"] == question.type:
        labels = ", ".join(f"'{o.label}'" for o in removed)
        reasons.append(f"options cannot be removed ({labels}): stored answers use them")
    if reasons:
        raise EditRefused("This question already has answers, so " + "; ".join(reasons)
                          + ". Fix wording only, or add a new question.")


def _apply_question(question: Question, item: dict, page: Page | None) -> Change:
    change = Change()
    for key in ("text", "help_text"):
        before, after = getattr(question, key) or "", item.get(key, "") or ""
        if before != after:
            change.wording[key] = [before, after]
            setattr(question, key, after)
    for key, default in (("code", None), ("type", None), ("required", False), ("construct", None),
                         ("reverse_coded", False), ("display_condition", None)):
        before, after = getattr(question, key), item.get(key, default)
        if before != after:
            change.other[key] = [before, after]
            setattr(question, key, after)
    config = question_type(item["type"]).check_config(item.get("config", {}), "config")
    if (question.config or {}) != config:
        change.other["config"] = [question.config, config]
        question.config = config
    if page is not None and question.page_id != page.id:
        change.other["page"] = [question.page.title if question.page else None, page.title]
        question.page = page
    # Options, matched by code: labels are updated in place, new codes added, removed codes deleted.
    wanted = _options_of(item)
    existing = {o.code: o for o in question.options}
    kept = []
    for position, (code, label) in enumerate(wanted):
        option = existing.pop(code, None)
        if option is None:
            option = AnswerOption(code=code, label=label, position=position, translations={})
            change.other.setdefault("options_added", []).append(label)
        elif option.label != label:
            change.wording.setdefault("options", []).append([option.label, label])
            option.label = label
        option.position = position
        kept.append(option)
    for option in existing.values():
        change.other.setdefault("options_removed", []).append(option.label)
    question.options = kept
    if "rows" in item:
        _apply_rows(question, item, change)
    return change


def _apply_rows(matrix: Question, item: dict, change: Change) -> None:
    """A matrix's statements, matched by code: texts updated in place, new ones added, gone ones deleted."""
    existing = {row.code: row for row in matrix.rows}
    kind = question_type(matrix.type)
    config = kind.check_config(dict(matrix.config), "config")
    options = question_type(kind.row_type).generated_options(config)
    for position, spec in enumerate(item.get("rows", [])):
        row = existing.pop(spec["code"], None)
        construct = spec.get("construct", item.get("construct"))
        if row is None:
            row = Question(code=spec["code"], type="scale", text=spec["text"], help_text="", translations={},
                           position=matrix.position + position + 1, survey=matrix.survey, page=matrix.page,
                           config=config, options=[AnswerOption(code=c, label=label, position=i, translations={})
                                                   for i, (c, label) in enumerate(options)])
            matrix.rows.append(row)
            change.other.setdefault("rows_added", []).append(spec["code"])
        elif row.text != spec["text"]:
            change.wording.setdefault("rows", []).append([row.text, spec["text"]])
            row.text = spec["text"]
        row.required = matrix.required
        row.construct = construct
        row.reverse_coded = bool(spec.get("reverse_coded", False))
        row.position = matrix.position + position + 1
        if row.page is not matrix.page:
            row.page = matrix.page
    for row in existing.values():
        change.other.setdefault("rows_removed", []).append(row.code)
        matrix.rows.remove(row)
        row.page.questions.remove(row)
        matrix.survey.questions.remove(row)
        db.session.delete(row)


def _renumber(survey: Survey) -> None:
    """Consecutive positions page by page; a matrix's rows follow their matrix."""
    position = 0
    for p, page in enumerate(sorted(survey.pages, key=lambda page: page.position)):
        page.position = p
        for question in sorted((q for q in page.questions if q.parent is None), key=lambda q: q.position):
            question.position = position
            position += 1
            for row in sorted(question.rows, key=lambda q: q.position):
                row.position = position
                position += 1


def update_question(survey: Survey, question: Question, item: dict, page: Page | None = None) -> Change:
    """Replace a question with ``item`` (definition format), if allowed; the caller commits."""
    check_question_change(question, item, question_has_answers(question))
    definition = definition_from_survey(survey)
    p, q = _locate(definition, question.code)
    target_page = page or question.page
    definition["pages"][p]["questions"].pop(q)
    page_index = sorted(survey.pages, key=lambda pg: pg.position).index(target_page)
    insert_at = q if page_index == p else len(definition["pages"][page_index]["questions"])
    definition["pages"][page_index]["questions"].insert(insert_at, item)
    validate_definition(definition)
    change = _apply_question(question, item, target_page)
    if page_index != p:
        question.position = 10**6  # last on its new page until renumbered
    _renumber(survey)
    return change


def add_question(survey: Survey, page: Page, item: dict) -> Question:
    definition = definition_from_survey(survey)
    page_index = sorted(survey.pages, key=lambda pg: pg.position).index(page)
    definition["pages"][page_index]["questions"].append(item)
    validate_definition(definition)
    with db.session.no_autoflush:  # the question is complete before anything is flushed
        question = Question(code=item["code"], type=item["type"], text=item["text"], position=10**6,
                            translations={}, config={}, options=[])
        survey.questions.append(question)
        _apply_question(question, item, page)
        _renumber(survey)
    return question


def delete_question(survey: Survey, question: Question) -> None:
    if question_has_answers(question):
        raise EditRefused(f"'{question.text}' already has answers, so it cannot be deleted: the stored "
                          "answers would lose their question. Close the survey, or leave the question in.")
    definition = definition_from_survey(survey)
    p, q = _locate(definition, question.code)
    definition["pages"][p]["questions"].pop(q)
    try:
        validate_definition(definition)
    except EditRefused as error:
        raise EditRefused(f"Another question's display condition depends on '{question.code}' ({error}). "
                          "Change that condition first.") from None
    for row in list(question.rows):
        survey.questions.remove(row)
        row.page.questions.remove(row)
        db.session.delete(row)
    survey.questions.remove(question)
    question.page.questions.remove(question)
    db.session.delete(question)
    _renumber(survey)


def move_question(survey: Survey, question: Question, direction: int) -> None:
    """Move up (-1) or down (+1) within its page, if the display conditions still point backwards."""
    siblings = sorted((q for q in question.page.questions if q.parent is None), key=lambda q: q.position)
    i = siblings.index(question)
    j = i + direction
    if not 0 <= j < len(siblings):
        return
    definition = definition_from_survey(survey)
    p, q = _locate(definition, question.code)
    items = definition["pages"][p]["questions"]
    items[q], items[q + direction] = items[q + direction], items[q]
    validate_definition(definition)
    siblings[i].position, siblings[j].position = siblings[j].position, siblings[i].position
    _renumber(survey)


def add_page(survey: Survey, title: str) -> Page:
    page = Page(title=title, position=len(survey.pages), translations={})
    survey.pages.append(page)
    return page


def update_page(survey: Survey, page: Page, title: str, condition: dict | None) -> Change:
    definition = definition_from_survey(survey)
    index = sorted(survey.pages, key=lambda pg: pg.position).index(page)
    entry = definition["pages"][index]
    entry["title"] = title
    entry.pop("display_condition", None)
    if condition:
        entry["display_condition"] = condition
    validate_definition(definition)
    change = Change()
    if page.title != title:
        change.wording["title"] = [page.title, title]
        page.title = title
    if page.display_condition != condition:
        change.other["display_condition"] = [page.display_condition, condition]
        page.display_condition = condition
    return change


def delete_page(survey: Survey, page: Page) -> None:
    if page.questions:
        raise EditRefused("Only an empty page can be deleted: move or delete its questions first.")
    survey.pages.remove(page)
    db.session.delete(page)
    _renumber(survey)


def free_code(survey: Survey, code: str) -> str:
    taken = {q.code for q in survey.questions}
    if code not in taken:
        return code
    base = re.sub(r"_\d+$", "", code)[:60]
    n = 2
    while f"{base}_{n}" in taken:
        n += 1
    return f"{base}_{n}"


def free_slug(slug: str) -> str:
    taken = set(db.session.scalars(select(Survey.slug).where(Survey.slug.like(f"{slug}%"))))
    if slug not in taken:
        return slug
    n = 2
    while f"{slug}-{n}" in taken:
        n += 1
    return f"{slug}-{n}"


def create_from_definition(definition: dict, allow_empty_pages: bool = False) -> Survey:
    """A new draft survey from a definition (template, import); nothing is added if it is invalid."""
    try:
        survey = survey_from_definition(definition, allow_empty_pages=allow_empty_pages)
    except DefinitionError as error:
        raise EditRefused(f"{error.path}: {error.message}") from None
    if db.session.scalar(select(exists().where(Survey.slug == survey.slug))):
        raise EditRefused(f"slug: a survey with the web address name '{survey.slug}' already exists.")
    db.session.add(survey)
    return survey


def next_wave(survey: Survey, slug: str) -> Survey:
    """A draft copy of ``survey`` as the next wave of its series (started if it has none).

    Questions, codes and options are copied exactly, so that results can be
    compared wave by wave; population margins, settings and the written questions'
    codebooks come along as a starting point for staff to update.
    """
    definition = copy.deepcopy(definition_from_survey(survey))
    definition["slug"] = slug
    if survey.series_id is None:
        series = SurveySeries(name=survey.title)
        db.session.add(series)
        db.session.flush()
        survey.series_id = series.id
    latest = db.session.scalar(select(func.max(Survey.wave)).where(Survey.series_id == survey.series_id)) or 1
    copy_ = create_from_definition(definition)
    copy_.series_id = survey.series_id
    copy_.wave = latest + 1
    copy_.weight_trim = survey.weight_trim
    copy_.access_mode = survey.access_mode
    db.session.flush()
    _copy_margins(survey, copy_)
    _copy_codebooks(survey, copy_)
    return copy_


def _copy_codebooks(source: Survey, target: Survey) -> None:
    """The written questions' codebooks (themes, numbers, translations), so that each wave is coded
    alike and the themes can be compared wave by wave; no coding comes along."""
    from ..models import Theme

    by_code = {q.code: q for q in target.questions}
    for question in source.questions:
        if question.code not in by_code:
            continue
        for theme in db.session.scalars(select(Theme).where(Theme.question_id == question.id)):
            db.session.add(Theme(question_id=by_code[question.code].id, number=theme.number, label=theme.label,
                                 translations=dict(theme.translations or {}), position=theme.position))


def _copy_margins(source: Survey, target: Survey) -> None:
    """The source's population margins, as the target's starting point."""
    for margin in db.session.scalars(select(PopulationMargin).where(PopulationMargin.survey_id == source.id)):
        db.session.add(PopulationMargin(survey_id=target.id, variable=margin.variable,
                                        category_code=margin.category_code, population=margin.population,
                                        source=margin.source))


def duplicate(survey: Survey, title: str, slug: str) -> Survey:
    """A draft copy of ``survey`` as a survey of its own (not a wave of its series): its pages,
    questions, options, translations and settings, its population margins and codebooks as a
    starting point; no response, no coding, no result."""
    definition = copy.deepcopy(definition_from_survey(survey))
    definition["slug"], definition["title"] = slug, title
    copy_ = create_from_definition(definition)
    copy_.weight_trim = survey.weight_trim
    copy_.access_mode = survey.access_mode
    db.session.flush()
    _copy_margins(survey, copy_)
    _copy_codebooks(survey, copy_)
    return copy_


def options_from_lines(text: str, existing: list[tuple[int, str]] = ()) -> list[dict]:
    """Options from the editor's lines: "code | label" keeps a code; a bare label gets the next free one."""
    parsed, used = [], set()
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if "|" in line:
            code_text, _, label = line.partition("|")
            try:
                code = int(code_text.strip())
            except ValueError:
                raise EditRefused(f"options, line {number}: '{code_text.strip()}' is not a whole number code") \
                    from None
            label = label.strip()
        else:
            code, label = None, line
        if not label:
            raise EditRefused(f"options, line {number}: the label is empty")
        if code is not None:
            if code in used:
                raise EditRefused(f"options, line {number}: code {code} is used twice")
            used.add(code)
        parsed.append([code, label])
    next_code = max([c for c in used if c > 0] + [c for c, _ in existing if c > 0] + [0]) + 1
    for entry in parsed:
        if entry[0] is None:
            entry[0] = next_code
            next_code += 1
    return [{"code": code, "label": label} for code, label in parsed]

