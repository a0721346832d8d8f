"""Database -> pandas: a survey's codebook and its responses as one tidy frame.

The frame has one row per response (indexed by response id) and one column
per question, named by question code:

* single choice, dropdown, scale: ``Categorical`` of option codes (int8
  codes underneath), ordered for scales; "don't know" and "prefer not to
  say" stay in as their negative codes so they can be counted, and
  ``substantive()`` turns them into missing for estimates;
* multiple choice: nullable ``Int32`` bit mask (bit ``code - 1`` per option);
* numeric: ``float64`` with NaN where not answered;
* free text: never loaded (only counted).

Loading is two queries over the narrow, typed ``answer`` table (coded
answers, numeric answers), each returning one row per question with its
answers joined into strings by the database (see ``_answers_by_question``),
placed into columns with numpy indexing, not pandas' ``pivot``, which builds
a MultiIndex and is several times slower and larger at a million responses.

Plain SQL through SQLAlchemy Core: this package never imports Flask or the
ORM models (which come with Flask-SQLAlchemy).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from ..questionnaire.types import MISSING_CODES, NOT_AN_OPTION, NOT_FINITE, OUT_OF_RANGE, number_bounds
from ..questionnaire.question_types import question_type
from .disclosure import is_small


@dataclass(frozen=True)
class QuestionInfo:
    id: int
    code: str
    type: str
    text: str
    page: str
    options: tuple[tuple[int, str], ...]  # (code, label) in display order
    config: dict
    construct: str | None
    reverse_coded: bool

    @property
    def kind(self) -> str:
        return question_type(self.type).kind

    def label_of(self, code: int) -> str:
        return dict(self.options)[code]


@dataclass(frozen=True)
class Codebook:
    survey_id: int
    slug: str
    title: str
    min_cell_size: int
    questions: tuple[QuestionInfo, ...]
    weight_trim: float | None = None
    series_id: int | None = None
    wave: int = 1

    def question(self, code: str) -> QuestionInfo:
        for question in self.questions:
            if question.code == code:
                return question
        raise KeyError(code)


# Why a stored answer is left out of every estimate, as staff read it (the results page has its own words).
LEFT_OUT_REASONS = {
    NOT_FINITE: "not a finite number (infinity or NaN)",
    OUT_OF_RANGE: "outside the question's allowed range",
    NOT_AN_OPTION: "not one of the question's answer codes",
}


def left_out_lines(left_out: dict[str, dict[str, int]]) -> list[str]:
    """One line per question and reason with the exact count: for staff (CLI), never published."""
    return [f"Left out of the estimates: {count:,} answer{'' if count == 1 else 's'} to '{code}', "
            f"{LEFT_OUT_REASONS[reason]}."
            for code, reasons in left_out.items() for reason, count in reasons.items()]


@dataclass(frozen=True)
class SurveyData:
    codebook: Codebook
    frame: pd.DataFrame
    text_counts: dict[str, int]  # written answers per text question (never the text)
    # Stored answers the frame leaves out, by question code and reason (each type's ``unusable``).
    left_out: dict[str, dict[str, int]] = field(default_factory=dict)
    # How the written answers behind each themes item were coded (themes.py), by item code.
    coding: dict[str, dict] = field(default_factory=dict)
    # Quotes of written answers a person approved and the analysis checked (themes.py), by item code.
    quotes: dict[str, list[dict]] = field(default_factory=dict)

    @property
    def n_responses(self) -> int:
        return len(self.frame)

    def left_out_note(self) -> list[dict]:
        """What was left out, for the results: one record per question and reason, the count
        withheld (None) when it is 1 to k - 1, like any figure about that few respondents."""
        k = self.codebook.min_cell_size
        notes = []
        for question in self.codebook.questions:
            for reason, count in self.left_out.get(question.code, {}).items():
                note = {"code": question.code, "text": question.text, "reason": reason,
                        "count": None if is_small(count, k) else count}
                if reason == OUT_OF_RANGE:
                    note["low"], note["high"] = number_bounds(question.config)
                notes.append(note)
        return notes


class SurveyNotFound(LookupError):
    pass


def _json(value) -> dict:
    # PostgreSQL's driver decodes JSON columns; SQLite hands back the text.
    if value is None:
        return {}
    return json.loads(value) if isinstance(value, str) else value


def load_codebook(connection: Connection, slug: str) -> Codebook:
    survey = connection.execute(
        text("SELECT id, slug, title, min_cell_size, weight_trim, series_id, wave FROM survey WHERE slug = :slug"),
        {"slug": slug},
    ).first()
    if survey is None:
        raise SurveyNotFound(f"no survey with slug {slug!r}")
    questions = connection.execute(
        text(
            "SELECT q.id, q.code, q.type, q.text, p.title, q.config, q.construct, q.reverse_coded "
            "FROM question q JOIN page p ON p.id = q.page_id "
            "WHERE q.survey_id = :sid ORDER BY q.position"
        ),
        {"sid": survey.id},
    ).all()
    options: dict[int, list[tuple[int, str]]] = {}
    for question_id, code, label in connection.execute(
        text(
            "SELECT o.question_id, o.code, o.label FROM answer_option o "
            "JOIN question q ON q.id = o.question_id WHERE q.survey_id = :sid "
            "ORDER BY o.question_id, o.position"
        ),
        {"sid": survey.id},
    ):
        options.setdefault(question_id, []).append((code, label))
    return Codebook(
        survey_id=survey.id,
        slug=survey.slug,
        title=survey.title,
        min_cell_size=survey.min_cell_size,
        weight_trim=survey.weight_trim,
        series_id=survey.series_id,
        wave=survey.wave,
        questions=tuple(
            QuestionInfo(
                id=q.id,
                code=q.code,
                type=q.type,
                text=q.text,
                page=q.title,
                options=tuple(options.get(q.id, ())),
                config=_json(q.config),
                construct=q.construct,
                reverse_coded=bool(q.reverse_coded),
            )
            for q in questions
            if question_type(q.type).stores_answers  # a matrix has none: its rows are questions of their own
        ),
    )


def _concat(dialect: str, column: str) -> str:
    """SQL that joins a column's values of a group into one comma-separated string."""
    if dialect == "sqlite":
        return f"group_concat({column}, ',')"
    return f"string_agg(({column})::text, ',')"


# SQLite keeps whatever is written into a column (text in a REAL column, a real in an INTEGER
# one), which stops the parser or misaligns ids and values. A question whose answers do not
# parse is read again with each such value replaced by one the checks below leave out (NaN for
# numbers, 2^32 for codes, outside any 32-bit code). Only then: the CASE costs 10% of loading.
_SQLITE_STORED_AS = {
    "number": "CASE WHEN typeof(number) IN ('integer', 'real') THEN number ELSE 'nan' END",
    "value": "CASE WHEN typeof(value) = 'integer' THEN value ELSE 4294967296 END",
}


def _parse(joined: str | None, dtype) -> np.ndarray:
    return np.empty(0, dtype=dtype) if not joined else np.fromstring(joined, dtype=dtype, sep=",")


def _answers_by_question(connection: Connection, question_ids, column: str, dtype):
    """Yield (question id, response ids, values) of every non-null answer in ``column``.

    Each question's answers come back as two comma-separated strings joined
    inside the database (one query per question, from the answer table's key)
    and parsed by numpy's C parser. Measured on 2.6 million answers (SQLite):
    0.6 s, against 2.1 s for fetching them as rows and converting the tuples,
    which was most of the time of a whole analysis at a million responses.
    The two aggregates of a query see its rows in the same order, so ids and
    values stay aligned. The SQL carries only integers we formatted ourselves.
    """
    dialect = connection.dialect.name
    unparsed = []
    for question_id, ids, values in _joined_answers(connection, question_ids, column, column):
        ids = _parse(ids, np.int64)
        try:
            values = _parse(values, dtype)
        except ValueError:
            values = None
        if values is None or len(values) != len(ids):
            if dialect != "sqlite":
                raise ValueError(f"answers to question {question_id} do not parse")  # typed columns: never
            unparsed.append(question_id)
            continue
        yield question_id, ids, values
    if unparsed:
        for question_id, ids, values in _joined_answers(connection, unparsed, column, _SQLITE_STORED_AS[column]):
            yield question_id, _parse(ids, np.int64), _parse(values, dtype)


def _joined_answers(connection: Connection, question_ids, column: str, stored: str):
    """Per question, its answers' response ids and values as two joined strings: one query per
    question, so that only one question's strings are in memory at a time (a driver fetches a
    result whole: one query for every question held 6.6 GB at ten million respondents on
    PostgreSQL)."""
    dialect = connection.dialect.name
    cursor = connection.connection.driver_connection.cursor()
    try:
        for question_id in question_ids:
            cursor.execute(
                f"SELECT {_concat(dialect, 'response_id')}, {_concat(dialect, stored)} FROM answer "
                f"WHERE question_id = {int(question_id)} AND {column} IS NOT NULL"
            )
            ids, values = cursor.fetchone()
            if ids is not None:
                yield int(question_id), ids, values
    finally:
        cursor.close()


def _response_ids(connection: Connection, survey_id: int) -> np.ndarray:
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(f"SELECT {_concat(connection.dialect.name, 'id')} FROM response "
                       f"WHERE survey_id = {int(survey_id)}")
        (joined,) = cursor.fetchone()
    finally:
        cursor.close()
    return np.sort(_parse(joined, np.int64))


def _rows_of(response_ids: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Frame rows of answers' response ids (``response_ids`` sorted), and which of the ids are
    among them.

    The answers are read by queries after the responses' own, each its own snapshot of the
    database: on a live site a response stored in between has answers whose id is not among
    the rows. They are left out (the next analysis has them), never written into another
    respondent's row, which is where a bare binary search would put them.
    """
    if len(response_ids) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(len(ids), dtype=bool)
    rows = np.minimum(np.searchsorted(response_ids, ids), len(response_ids) - 1)
    found = response_ids[rows] == ids
    return rows[found], found


def load_survey_data(connection: Connection, codebook: Codebook) -> SurveyData:
    response_ids = _response_ids(connection, codebook.survey_id)
    n = len(response_ids)
    stored_in = {q.code: question_type(q.type).stored_in for q in codebook.questions}
    coded = [q for q in codebook.questions if stored_in[q.code] == "value"]
    numeric = [q for q in codebook.questions if stored_in[q.code] == "number"]
    texts = [q for q in codebook.questions if stored_in[q.code] == "text"]

    columns: dict[str, object] = {}
    left_out: dict[str, dict[str, int]] = {}
    # Coded answers are int32 with a mask of those answered (a 0-10 scale has a point 0; an
    # empty bit mask is no answer); numbers are float64 with NaN. Read as int64 first, so that
    # a code outside 32 bits is seen (and left out) rather than wrapped into a valid one.
    for questions, value_column, dtype, empty in ((coded, "value", np.int64, 0),
                                                  (numeric, "number", np.float64, np.nan)):
        if not questions:
            continue
        by_id = {q.id: q for q in questions}

        def column(question, ids=(), values=()):
            """The question's frame column; made as its answers arrive, so that only one
            question's full-length arrays are in memory at a time (at ten million respondents
            each is 80 MB before it becomes a column of small codes)."""
            kind = question_type(question.type)
            full = np.full(n, empty, dtype=dtype)
            answered = np.zeros(n, dtype=bool)
            rows, found = _rows_of(response_ids, np.asarray(ids, dtype=np.int64))
            full[rows] = np.asarray(values, dtype=dtype)[found]
            answered[rows] = True
            usable = answered
            # What the type's answer check refuses on the way in, in case the table holds it
            # anyway (written before the check, or straight into the database).
            for reason, unusable in kind.unusable(question, full, answered).items():
                if unusable.any():
                    left_out.setdefault(question.code, {})[reason] = int(unusable.sum())
                    full[unusable] = empty
                    usable = usable & ~unusable
            if value_column == "value":
                full = full.astype(np.int32)
            return kind.frame_column(full, usable, question)

        for question_id, ids, values in _answers_by_question(connection, list(by_id), value_column, dtype):
            columns[by_id[question_id].code] = column(by_id[question_id], ids, values)
        for question in questions:  # no answer at all
            if question.code not in columns:
                columns[question.code] = column(question)

    text_counts = {q.code: 0 for q in texts}
    if texts:
        by_id = {q.id: q.code for q in texts}
        for question_id, count in connection.execute(
            text("SELECT question_id, COUNT(*) FROM answer WHERE question_id IN :ids "
                 "AND text IS NOT NULL GROUP BY question_id").bindparams(bindparam("ids", expanding=True)),
            {"ids": list(by_id)},
        ):
            text_counts[by_id[question_id]] = int(count)

    ordered = {q.code: columns[q.code] for q in codebook.questions if q.code in columns}
    frame = pd.DataFrame(ordered, index=pd.Index(response_ids, name="response_id"))
    return SurveyData(codebook=codebook, frame=frame, text_counts=text_counts, left_out=left_out)


def substantive(series: pd.Series) -> pd.Series:
    """A coded column with "don't know" / "prefer not to say" turned into missing."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        missing = [c for c in series.cat.categories if c in MISSING_CODES]
        return series.cat.remove_categories(missing) if missing else series
    return series


def code_lookup(series: pd.Series, mapping: dict, default, dtype) -> np.ndarray:
    """``mapping[code]`` for every respondent's answer code, ``default`` for a code not in it or
    no answer. For a categorical column through its small-integer codes (one lookup, the last
    entry serving code -1, missing) rather than a comparison of every respondent per code."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        lookup = np.array([mapping.get(code, default) for code in series.cat.categories] + [default], dtype=dtype)
        return lookup[series.cat.codes.to_numpy()]
    values = series.astype("float64").to_numpy()
    out = np.full(len(values), default, dtype=dtype)
    for code, mapped in mapping.items():
        out[values == code] = mapped
    return out


def series_slugs(connection: Connection, series_id: int) -> list[tuple[int, str]]:
    """(wave, slug) of every survey in a series, oldest wave first."""
    return [(int(w), s) for w, s in connection.execute(
        text("SELECT wave, slug FROM survey WHERE series_id = :sid ORDER BY wave, id"), {"sid": series_id})]
