"""Responses from a CSV file (paper forms keyed in elsewhere, another survey tool), all or nothing.

One row per response, one column per question code (the codes of the survey's export). Choice
answers are option *codes* (as in the codebook, e.g. 4 for "Agree", -1 for "Don't know"), a
multiple-choice answer is codes separated by ";" (its "other" text in ``<code>_other``),
numbers are numbers and text is text. Optional columns: ``mode`` (paper, phone or import,
the default), ``language`` (en, es) and ``submitted_on`` (YYYY-MM-DD, default today).

Every row is checked by the same form and display logic as a resident's answers, so imported
data obeys the same rules as web data. The report names every bad row and column; if there
is any problem, nothing at all is stored.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from . import audit, spreadsheet_csv
from .extensions import db
from .forms.response import REQUIRED_MESSAGE, answers_from_form, build_response_form, hidden_questions
from .models import Question, Survey, utcnow
from .questionnaire.question_types import question_type
from .responses import store_responses

EXTRA_COLUMNS = ("mode", "language", "submitted_on")
IMPORT_MODES = ("paper", "phone", "import")
MAX_ROWS = 100_000
MAX_PROBLEMS = 500  # a report longer than this stops listing (the count stays exact)


@dataclass(frozen=True)
class Problem:
    line: int  # line of the file: the header is line 1
    column: str  # "" when the problem is the whole row or file
    message: str


@dataclass
class ImportReport:
    rows: int = 0
    stored: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0

    def add(self, line: int, column: str, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(line, column, message))

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def as_dict(self) -> dict:
        return {"rows": self.rows, "stored": self.stored, "problem_count": self.problem_count,
                "problems": [[p.line, p.column, p.message] for p in self.problems]}

    @classmethod
    def from_dict(cls, data: dict) -> "ImportReport":
        return cls(rows=data["rows"], stored=data["stored"], problem_count=data["problem_count"],
                   problems=[Problem(*p) for p in data["problems"]])


def _answer_questions(survey: Survey) -> dict[str, Question]:
    return {q.code: q for q in survey.questions if question_type(q.type).stores_answers}


def _columns(questions: dict[str, Question]) -> list[str]:
    """Every column a file may have for these questions (each type names its own), in order."""
    return [column for question in questions.values() for column in question_type(question.type).import_columns(question)]


def _extras(values: dict[str, str], line: int, report: ImportReport, languages) -> tuple[str, str, dt.date]:
    mode = values.get("mode", "").strip().lower() or "import"
    if mode not in IMPORT_MODES:
        report.add(line, "mode", f"'{mode}' is not a mode; use {', '.join(IMPORT_MODES)}")
    language = values.get("language", "").strip().lower() or languages[0]
    if language not in languages:
        report.add(line, "language", f"'{language}' is not a language of this survey; use {', '.join(languages)}")
    today = utcnow().date()
    day = today
    text = values.get("submitted_on", "").strip()
    if text:
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            report.add(line, "submitted_on", f"'{text}' is not a date like {today.isoformat()}")
        else:
            if day > today:
                report.add(line, "submitted_on", f"{text} is in the future")
    return mode, language, day


def check(survey: Survey, data: bytes, languages=("en",), progress=None) -> tuple[ImportReport, list]:
    """Check every row of the file: the report, and the responses ready to store (none unless
    the report is clean). ``progress(done, total, phase)`` is told how far it has got."""
    progress = progress or (lambda done, total, phase: None)
    report = ImportReport()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        report.add(0, "", "The file is not UTF-8 text. Save it as \"CSV UTF-8\" and try again.")
        return report, []
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as error:  # a cell over the reader's 128 KB, or a NUL byte: not a responses file
        report.add(0, "", f"The file cannot be read as CSV ({error}). No answer is that long: check that it is "
                          "the responses file, saved as CSV.")
        return report, []
    rows = [(number, row) for number, row in enumerate(rows, start=1) if any(cell.strip() for cell in row)]
    if not rows:
        report.add(0, "", "The file is empty.")
        return report, []
    header_line, header = rows[0]
    header = [name.strip() for name in header]
    questions = _answer_questions(survey)
    known = set(_columns(questions)) | set(EXTRA_COLUMNS)
    seen = set()
    for name in header:
        if not name:
            report.add(header_line, "", "A column has no name in the header row")
        elif name in seen:
            report.add(header_line, name, "This column appears twice")
        elif name not in known:
            report.add(header_line, name, "Not a question code of this survey (see its codebook or the template)")
        seen.add(name)
    if not report.ok:
        return report, []
    if len(rows) - 1 > MAX_ROWS:
        report.add(0, "", f"The file has {len(rows) - 1:,} rows; import at most {MAX_ROWS:,} at a time.")
        return report, []

    prepared = []
    form_classes = {}
    total = len(rows) - 1
    for line, row in rows[1:]:
        progress(report.rows, total, "Checking rows")
        report.rows += 1
        if len(row) != len(header):
            report.add(line, "", f"This row has {len(row)} values but the header has {len(header)} columns")
            continue
        values = dict(zip(header, row))
        before = report.problem_count
        formdata = MultiDict()
        for question in questions.values():
            posted, problems = question_type(question.type).import_formdata(question, values)
            for name, value in posted:
                formdata.add(name, value)
            for column, message in problems:
                report.add(line, column, message)
        mode, language, day = _extras(values, line, report, list(languages))
        if report.problem_count > before:
            continue
        hidden = hidden_questions(survey, formdata)
        for code in sorted(hidden):
            if code in questions and values.get(code, "").strip():
                report.add(line, code, "Answered, but this question is skipped for this response by its display "
                                       "condition; leave it blank")
        key = frozenset(hidden)  # a form class per set of skipped questions, not per row
        if key not in form_classes:
            form_classes[key] = build_response_form(survey, hidden)
        form = form_classes[key](formdata=formdata, meta={"csrf": False})
        if not form.validate():
            for name, errors in form.errors.items():
                column = name[2:]
                message = str(errors[0])
                report.add(line, column, "Required, but empty" if message == str(REQUIRED_MESSAGE) else message)
            continue
        if report.problem_count == before:
            prepared.append((answers_from_form(survey, form, hidden), mode, language, day))

    if not report.ok:
        return report, []
    return report, prepared


def run_job(job, progress) -> dict:
    """The background import (jobs.KINDS["import"]): check the uploaded file; if it is clean,
    store every response and audit the import in the job's transaction. The report, for the page."""
    from .i18n import LANGUAGES
    from .models import StaffUser
    from .questionnaire import translation

    survey = job.survey
    report, prepared = check(survey, job.payload, translation.available_languages(survey, LANGUAGES), progress)
    if report.ok:
        progress(report.rows, report.rows, f"Storing {len(prepared):,} responses")
        report.stored = store_responses(survey.id, prepared)
        creator = db.session.get(StaffUser, job.created_by_id) if job.created_by_id else None
        audit.record_import(f"survey {survey.slug}", report.stored, job.params.get("filename", ""), user=creator)
    return report.as_dict()


def template_csv(survey: Survey) -> str:
    """The header row a file must have, as a starting point (every column optional but the codes)."""
    out = io.StringIO()
    header = _columns(_answer_questions(survey))
    spreadsheet_csv.writer(out, lineterminator="\r\n").writerow(header + list(EXTRA_COLUMNS))
    return out.getvalue()
