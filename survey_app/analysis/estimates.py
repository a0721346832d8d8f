"""Per-question tables and summaries (unweighted).

Definitions, as written in the methodology:

* ``percent``: share of everyone who answered the question, "don't know" and
  "prefer not to say" included (SPSS's "Percent" over answered cases).
* ``valid_percent``: share of substantive answers only; blank for the
  non-substantive codes (SPSS's "Valid Percent").
* scale ``mean``: mean of the 1-5 points over substantive answers.
* scale ``percent_agree``: top two boxes (4 and 5) over substantive answers.
* multiple choice ``percent``: share of those who answered the question who
  chose the option; an answer may choose several, so these add up to more
  than 100.
* numeric: count, mean, standard deviation (n - 1), quartiles by linear
  interpolation (pandas' default), minimum and maximum.

Weighted estimates with standard errors come with the analysis engine; these
are the plain counts every later figure is checked against.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..questionnaire.types import MISSING_CODES, MULTI, NUMERIC, ORDINAL, TEXT, TOP_BOX_CODES, multi_bit
from .frame import QuestionInfo, SurveyData, substantive


def _percent(part, whole) -> float | None:
    return None if whole == 0 else 100.0 * part / whole


def _clean(value) -> float | None:
    """JSON-safe number: NaN becomes None."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def frequency_table(series: pd.Series, question: QuestionInfo) -> pd.DataFrame:
    """Counts and percentages of a single-answer question, one row per option in display order."""
    counts = series.value_counts(dropna=True).reindex([c for c, _ in question.options], fill_value=0)
    answered = int(counts.sum())
    valid = int(counts[[c for c in counts.index if c not in MISSING_CODES]].sum())
    table = pd.DataFrame(
        {
            "code": counts.index.astype(int),
            "label": [label for _, label in question.options],
            "count": counts.to_numpy(dtype=np.int64),
            "missing_code": [c in MISSING_CODES for c in counts.index],
        }
    )
    table["percent"] = [_percent(c, answered) for c in table["count"]]
    table["valid_percent"] = [
        None if missing else _percent(c, valid) for c, missing in zip(table["count"], table["missing_code"])
    ]
    return table


def multiple_choice_table(series: pd.Series, question: QuestionInfo) -> pd.DataFrame:
    masks = series.dropna().to_numpy(dtype=np.int64)
    answered = len(masks)
    counts = [int(np.count_nonzero(masks & multi_bit(code))) for code, _ in question.options]
    return pd.DataFrame(
        {
            "code": [code for code, _ in question.options],
            "label": [label for _, label in question.options],
            "count": counts,
            "missing_code": False,
            "percent": [_percent(c, answered) for c in counts],
            "valid_percent": [_percent(c, answered) for c in counts],
        }
    )


def scale_summary(series: pd.Series) -> dict:
    points = substantive(series).dropna().astype(int)
    valid = len(points)
    return {
        "n_valid": valid,
        "n_dont_know": int((series == MISSING_CODES[0]).sum()),
        "n_prefer_not_to_say": int((series == MISSING_CODES[1]).sum()),
        "mean": _clean(points.mean()) if valid else None,
        "percent_agree": _percent(int(points.isin(TOP_BOX_CODES).sum()), valid),
    }


def numeric_summary(series: pd.Series) -> dict:
    values = series.dropna()
    if values.empty:
        return {"n_valid": 0, "mean": None, "sd": None, "min": None, "q1": None,
                "median": None, "q3": None, "max": None}
    return {
        "n_valid": int(values.size),
        "mean": _clean(values.mean()),
        "sd": _clean(values.std(ddof=1)) if values.size > 1 else None,
        "min": _clean(values.min()),
        "q1": _clean(values.quantile(0.25)),
        "median": _clean(values.median()),
        "q3": _clean(values.quantile(0.75)),
        "max": _clean(values.max()),
    }


def summarise_question(data: SurveyData, question: QuestionInfo) -> dict:
    """Everything the results page shows for one question, as JSON-ready values."""
    base = {"code": question.code, "text": question.text, "type": question.type,
            "kind": question.kind, "page": question.page}
    if question.kind == TEXT:
        answered = data.text_counts.get(question.code, 0)
        return {**base, "n_answered": answered, "n_skipped": data.n_responses - answered,
                "table": [], "summary": {}}
    series = data.frame[question.code]
    answered = int(series.notna().sum())
    result = {**base, "n_answered": answered, "n_skipped": data.n_responses - answered,
              "table": [], "summary": {}}
    if question.kind == NUMERIC:
        result["summary"] = numeric_summary(series)
        return result
    table = multiple_choice_table(series, question) if question.kind == MULTI else frequency_table(series, question)
    result["table"] = [
        {key: (_clean(value) if key in ("percent", "valid_percent") else value) for key, value in row.items()}
        for row in table.astype(object).to_dict(orient="records")
    ]
    if question.kind == ORDINAL:
        result["summary"] = scale_summary(series)
    return result


def summarise_survey(data: SurveyData) -> list[dict]:
    return [summarise_question(data, q) for q in data.codebook.questions]
