"""Themes of what residents wrote, and the quotes staff approved, as items of the results: the coded answers of a written
question become a multiple-choice item (one option per theme of its codebook), so its shares,
confidence intervals, breakdowns, charts, open data and disclosure control are those of every
other item, computed by the same code.

A theme's share is the weighted share of respondents whose answer was coded that mention it
(an answer may mention several). An answer coded with no theme counts in the base under "No
theme" (an empty multiple-choice mask would be no answer). The coding used is the settled one
where two coders disagreed, else the main coder's (written_coding.py). Agreement between the two
coders of the blind sample (Cohen's kappa per theme, Cohen 1960) goes in the methodology.

Plain SQL on a connection, like frame.py: no Flask.
"""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from ..questionnaire.question_types import question_type
from ..questionnaire.types import multi_bit
from .frame import QuestionInfo, SurveyData

SUFFIX = "_themes"  # the item's code: the written question's, with this
NO_THEME = 31  # the option of answers coded with no theme (theme numbers are 1 to 30)
NO_THEME_LABEL = "No theme"


def _json(value):
    if value is None:
        return None
    return json.loads(value) if isinstance(value, str) else value


def kappa(both: int, only_first: int, only_second: int, neither: int) -> float | None:
    """Cohen's kappa of two coders' yes/no for one theme (None when chance agreement is total)."""
    n = both + only_first + only_second + neither
    if n == 0:
        return None
    observed = (both + neither) / n
    first_yes, second_yes = (both + only_first) / n, (both + only_second) / n
    chance = first_yes * second_yes + (1 - first_yes) * (1 - second_yes)
    return None if chance == 1 else (observed - chance) / (1 - chance)


def _codings(connection: Connection, question_id: int) -> dict[str, dict[int, tuple[list[int] | None, int | None]]]:
    by_role: dict[str, dict] = {"main": {}, "check": {}, "final": {}}
    for response_id, role, themes, coder_id in connection.execute(
            text("SELECT response_id, role, themes, coder_id FROM coding WHERE question_id = :q"), {"q": question_id}):
        by_role[role][int(response_id)] = (_json(themes), coder_id)
    return by_role


def coding_summary(themes: list[tuple[int, str]], by_role: dict, answered: int) -> dict:
    """How the answers were coded, for the methodology: how many, by how many coders (and how
    many codings' coder is no longer on record), and the agreement of the double-coded sample per
    theme, with how many of its answers the two coded differently and how many of those were settled."""
    pairs = [(set(by_role["main"][r][0] or []), set(c[0])) for r, c in by_role["check"].items()
             if c[0] is not None and r in by_role["main"]]
    agreement = []
    for number, label in themes:
        both = sum(1 for m, c in pairs if number in m and number in c)
        only_main = sum(1 for m, c in pairs if number in m and number not in c)
        only_check = sum(1 for m, c in pairs if number not in m and number in c)
        agreement.append({"option": number, "label": label,
                          "kappa": kappa(both, only_main, only_check, len(pairs) - both - only_main - only_check)})
    values = [a["kappa"] for a in agreement if a["kappa"] is not None]
    coders = {coder for role in ("main", "final") for _, coder in by_role[role].values() if coder is not None}
    disagreed = [r for r, c in by_role["check"].items()
                 if c[0] is not None and r in by_role["main"] and set(by_role["main"][r][0] or []) != set(c[0])]
    return {"answered": answered, "coded": len(by_role["main"]), "coders": len(coders),
            "unrecorded": sum(1 for _, coder in by_role["main"].values() if coder is None),
            "disagreed": len(disagreed), "settled": sum(1 for r in disagreed if r in by_role["final"]),
            "second_coders": len({c[1] for c in by_role["check"].values() if c[0] is not None}),
            "double_coded": len(pairs),
            "kappa_mean": sum(values) / len(values) if values else None, "agreement": agreement}


def publishable_quotes(connection: Connection, data: SurveyData, question: QuestionInfo) -> list[dict]:
    """The quotes a person approved for the question (written_quotes.py), checked again: none if
    fewer than the minimum cell size answered it, and none from a respondent whose group in a
    breakdown variable now has fewer respondents than that (responses removed since)."""
    from .breakdowns import breakdown_variables

    k = data.codebook.min_cell_size
    if data.text_counts.get(question.code, 0) < k:
        return []
    frame, out = data.frame, []
    for response_id, words, language in connection.execute(
            text("SELECT w.response_id, w.text, r.language FROM written_quote w JOIN response r ON r.id = w.response_id "
                 "WHERE w.question_id = :q ORDER BY w.response_id"), {"q": question.id}):
        row = frame.index.get_indexer([int(response_id)])[0]
        if row < 0:
            continue
        small = False
        for variable in breakdown_variables(data.codebook):
            value = frame[variable.code].iloc[row]
            if not pd.isna(value) and int((frame[variable.code] == value).sum()) < k:
                small = True
        if not small:
            out.append({"text": words, "language": language})
    return out


def with_themes(connection: Connection, data: SurveyData) -> SurveyData:
    """``data`` with a themes item after each written question that has a codebook and coded
    answers: its column in the frame, its question in the codebook."""
    codebook, frame = data.codebook, data.frame
    questions, columns, coding, quotes = [], {}, {}, {}
    for question in codebook.questions:
        questions.append(question)
        if question_type(question.type).stored_in != "text":
            continue
        approved = publishable_quotes(connection, data, question)
        if approved:
            quotes[question.code] = approved
        themes = [(int(n), label) for n, label in connection.execute(
            text("SELECT number, label FROM theme WHERE question_id = :q ORDER BY position, number"),
            {"q": question.id})]
        by_role = _codings(connection, question.id)
        effective = {r: t for r, (t, _) in by_role["main"].items()}
        effective.update({r: t for r, (t, _) in by_role["final"].items()})
        if not themes or not effective:
            continue
        numbers = {n for n, _ in themes}
        masks = np.zeros(len(frame), dtype=np.int32)
        rows = frame.index.get_indexer(list(effective))
        for row, chosen in zip(rows, effective.values()):
            if row < 0:
                continue  # a response not in this frame (stored after its snapshot was read)
            kept = [n for n in chosen or [] if n in numbers]
            masks[row] = sum(multi_bit(n) for n in kept) if kept else multi_bit(NO_THEME)
        options = tuple(themes) + (((NO_THEME, NO_THEME_LABEL),) if (masks == multi_bit(NO_THEME)).any() else ())
        item = QuestionInfo(id=question.id, code=question.code + SUFFIX, type="multiple_choice", text=question.text,
                            page=question.page, options=options, config={}, construct=None, reverse_coded=False)
        questions.append(item)
        columns[item.code] = pd.arrays.IntegerArray(masks, mask=masks == 0)
        coding[item.code] = coding_summary(themes, by_role, data.text_counts.get(question.code, 0))
        if question.code in quotes:  # shown with the themes
            quotes[item.code] = quotes.pop(question.code)
    if not columns:
        return replace(data, quotes=quotes) if quotes else data
    return replace(data, codebook=replace(codebook, questions=tuple(questions)),
                   frame=frame.assign(**columns), coding=coding, quotes=quotes)
