"""Composite indices (0-100) from the constructs tagged on questions, with Cronbach's alpha.

How a score is made, as the methodology says:

* Items: the questions tagged with a construct that can be scored: 5-point
  scales (1..5, higher = more agreement or satisfaction) and ordered single
  choice items (``config.ordered``: "first_high" when the first option is the
  favourable one, "last_high" otherwise). Multiple choice, numbers and text
  are not scored. A construct needs at least two items to make an index.
* Each item is put on 0-100: point p of K becomes 100 (p - 1) / (K - 1),
  favourable end high; a reverse-coded item ("the police treat people
  differently...") becomes 100 minus that. "Don't know" and "prefer not to
  say" are missing.
* A respondent gets a score only with more than half of the items answered
  (the Urban Institute's rule); the score is the mean of the answered items,
  never their sum. Everyone else is missing for that index.
* The index estimate is the (weighted) mean of the scores, with its SE from
  the same linearisation as any other mean. It is a score, not a percentage.
* Cronbach's alpha: k / (k - 1) * (1 - sum of item variances / variance of
  the total), over the respondents who answered every item, unweighted,
  variances with n - 1.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..questionnaire.question_types import question_type
from ..questionnaire.types import DEMOGRAPHICS
from .frame import Codebook, QuestionInfo, code_lookup

INDEX_PREFIX = "index_"
INDEX_LABELS = {
    "overall_trust": "Trust index",
    "fair_treatment": "Fair treatment index",
    "legitimacy": "Legitimacy index",
    "effectiveness": "Effectiveness index",
    "safety": "Safety index",
    "recent_contact": "Recent contact index",
    "cooperation": "Cooperation index",
}


def scorable(question: QuestionInfo) -> bool:
    """An item with a construct whose type can score it (a scale, ordered options)."""
    if not question.construct or question.construct == DEMOGRAPHICS:
        return False
    return question_type(question.type).index_points(question) is not None


@dataclass(frozen=True)
class IndexDefinition:
    construct: str
    items: tuple[QuestionInfo, ...]

    @property
    def code(self) -> str:
        return INDEX_PREFIX + self.construct

    @property
    def label(self) -> str:
        return INDEX_LABELS.get(self.construct, self.construct.replace("_", " ").capitalize() + " index")

    @property
    def min_items(self) -> int:
        """Answered items a respondent needs: more than half."""
        return len(self.items) // 2 + 1

    def as_question(self) -> QuestionInfo:
        """The index as a numeric pseudo-question, so every estimator and breakdown applies to it."""
        items = ", ".join(q.code for q in self.items)
        return QuestionInfo(id=-1, code=self.code, type="numeric", text=f"{self.label} (0-100; items: {items})",
                            page="Indices", options=(), config={"min": 0, "max": 100},
                            construct=self.construct, reverse_coded=False)


def define_indices(codebook: Codebook) -> list[IndexDefinition]:
    """One index per construct with at least two scorable items, in questionnaire order."""
    by_construct: dict[str, list[QuestionInfo]] = {}
    for question in codebook.questions:
        if scorable(question):
            by_construct.setdefault(question.construct, []).append(question)
    return [IndexDefinition(c, tuple(items)) for c, items in by_construct.items() if len(items) >= 2]


def item_scores(series: pd.Series, question: QuestionInfo) -> np.ndarray:
    """One item on 0-100 (favourable end high, reverse coding applied); NaN where missing."""
    points = question_type(question.type).index_points(question)  # least favourable first
    score_of = {code: 100.0 * p / (len(points) - 1) for p, code in enumerate(points)}
    if question.reverse_coded:
        score_of = {code: 100.0 - score for code, score in score_of.items()}
    return code_lookup(series, score_of, np.nan, np.float64)


def item_matrix(frame: pd.DataFrame, definition: IndexDefinition) -> np.ndarray:
    """Respondents x items, each item on 0-100."""
    return np.column_stack(ItemColumns(frame, definition))


class ItemColumns(Sequence):
    """An index's items on 0-100, one column at a time, made when asked for: the index and its
    alpha need each item once or twice, never all at once (at ten million respondents the
    matrix of six items is 480 MB, and NaN-aware means over it copied it twice more)."""

    def __init__(self, frame: pd.DataFrame, definition: IndexDefinition):
        self.frame, self.items = frame, definition.items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return item_scores(self.frame[self.items[i].code], self.items[i])


def index_scores(frame: pd.DataFrame, definition: IndexDefinition) -> np.ndarray:
    """Each respondent's index score: the mean of the items answered, or NaN with half of the
    items or fewer answered."""
    total = np.zeros(len(frame))
    answered = np.zeros(len(frame), dtype=np.int64)
    for scores in ItemColumns(frame, definition):
        present = ~np.isnan(scores)
        total += np.where(present, scores, 0.0)
        answered += present
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(answered >= definition.min_items, total / answered, np.nan)


def cronbach_alpha(columns) -> tuple[float | None, int]:
    """Alpha over complete cases, and how many there were (None with fewer than 2, or no variance).

    ``columns``: each item's scores (NaN where missing), a sequence read twice, one item at a
    time: ``ItemColumns``, or a respondents x items matrix's transpose."""
    k = len(columns)
    if k == 0:
        return None, 0
    complete = None
    for scores in columns:
        complete = ~np.isnan(scores) if complete is None else complete & ~np.isnan(scores)
    n = int(complete.sum())
    if n < 2 or k < 2:
        return None, n
    total, item_variance = np.zeros(n), 0.0
    for scores in columns:
        answered = scores[complete]
        item_variance += answered.var(ddof=1)
        total += answered
    total_variance = total.var(ddof=1)
    if total_variance == 0:
        return None, n
    return float(k / (k - 1) * (1 - item_variance / total_variance)), n


def add_indices(frame: pd.DataFrame, codebook: Codebook) -> tuple[pd.DataFrame, list[dict]]:
    """The frame with one score column per index, and what each index is (items, alpha)."""
    definitions = define_indices(codebook)
    columns, described = {}, []
    for definition in definitions:
        columns[definition.code] = index_scores(frame, definition)
        alpha, n_alpha = cronbach_alpha(ItemColumns(frame, definition))
        described.append({
            "code": definition.code, "construct": definition.construct, "label": definition.label,
            "items": [{"code": q.code, "text": q.text, "reverse_coded": q.reverse_coded}
                      for q in definition.items],
            "min_items": definition.min_items, "alpha": alpha, "n_alpha": n_alpha,
            "question": definition.as_question(),
        })
    if columns:
        frame = frame.assign(**columns)
    return frame, described
