"""Backup and restore of one survey: ``flask export <slug>`` and ``flask import <file>``.

The file is JSON Lines, so that a survey with a million responses streams in and out without
being held in memory: the first line is the survey (its definition with translations, status,
dates, settings, population margins, invitation hashes and flags, the published versions'
records, and each written question's codebook), then one line per response: ``{"submitted_on",
"mode", "language", "answers": [[question code, value, number, text], ...]}``, with ``"written":
{question code: {"mask", "codings", "quote"}}`` where staff masked, coded or quoted its written
answers (coders by email: restored to the staff account with that email, if there is one).
Answers are keyed by question code, so the file does not depend on database ids, and it holds
exactly what the database holds: nothing that identifies a resident, because the database has
nothing of the kind.

Published result files live under GENERATED_DIR and are backed up with it (they never
change); the snapshot records in the file point at them by path.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import IO, Iterator

from sqlalchemy import insert, select
from sqlalchemy.orm import selectinload

from .extensions import db
from .models import (Answer, Coding, Invitation, PopulationMargin, Question, Response, Snapshot, StaffUser, Survey,
                     Theme, WrittenMask, WrittenQuote)
from .questionnaire import settings
from .questionnaire.definition import DefinitionError, definition_from_survey, survey_from_definition
from .questionnaire.question_types import question_type
from .questionnaire.types import AnswerRefused
from .responses import insert_responses
from .written_answers import text_questions

BACKUP_FORMAT = 1
BATCH = 5_000


class RestoreError(ValueError):
    pass


# Survey settings a backup carries beside its definition (which carries the rest).
RESTORED_SETTINGS = ("status", "opens_at", "closes_at", "access_mode", "default_language", "weight_trim", "wave")


def _moment(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse_moment(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def export_lines(survey: Survey) -> Iterator[str]:
    """The backup of a survey, line by line."""
    header = {
        "backup_format": BACKUP_FORMAT,
        "exported_at": _moment(dt.datetime.now(dt.timezone.utc)),
        "definition": definition_from_survey(survey),
        "status": survey.status,
        "opens_at": _moment(survey.opens_at),
        "closes_at": _moment(survey.closes_at),
        "access_mode": survey.access_mode,
        "default_language": survey.default_language,
        "weight_trim": survey.weight_trim,
        "wave": survey.wave,
        "margins": [{"variable": m.variable, "category": m.category_code, "population": m.population,
                     "source": m.source}
                    for m in db.session.scalars(select(PopulationMargin).where(PopulationMargin.survey_id == survey.id)
                                                .order_by(PopulationMargin.variable, PopulationMargin.category_code))],
        "invitations": [{"code_hash": i.code_hash, "batch": i.batch, "created_at": _moment(i.created_at), "used": i.used}
                        for i in db.session.scalars(select(Invitation).where(Invitation.survey_id == survey.id)
                                                    .order_by(Invitation.id))],
        "snapshots": [{"version": s.version, "status": s.status, "storage_path": s.storage_path,
                       "created_at": _moment(s.created_at), "published_at": _moment(s.published_at),
                       "withdrawn_at": _moment(s.withdrawn_at), "withdrawal_notice": s.withdrawal_notice}
                      for s in db.session.scalars(select(Snapshot).where(Snapshot.survey_id == survey.id)
                                                  .order_by(Snapshot.version))],
        "codebooks": {q.code: [{"number": t.number, "label": t.label, "translations": t.translations,
                                "position": t.position}
                               for t in db.session.scalars(select(Theme).where(Theme.question_id == q.id)
                                                           .order_by(Theme.position, Theme.number))]
                      for q in text_questions(survey)},
    }
    yield json.dumps(header, ensure_ascii=False, sort_keys=True)
    codes = {q.id: q.code for q in survey.questions}
    last_id = 0
    while True:  # keyset pagination: constant memory at any size
        batch = db.session.scalars(select(Response).where(Response.survey_id == survey.id, Response.id > last_id)
                                   .order_by(Response.id).limit(BATCH).options(selectinload(Response.answers))).all()
        if not batch:
            break
        written = _written_of(codes, [r.id for r in batch])
        for response in batch:
            answers = sorted([codes[a.question_id], a.value, a.number, a.text] for a in response.answers)
            line = {"submitted_on": response.submitted_on.isoformat(), "mode": response.mode,
                    "language": response.language, "answers": answers}
            if response.id in written:
                line["written"] = written[response.id]
            yield json.dumps(line, ensure_ascii=False, sort_keys=True)
        last_id = batch[-1].id
        db.session.expunge_all()


def _written_of(codes: dict[int, str], response_ids: list[int]) -> dict[int, dict]:
    """What staff did with these responses' written answers: masks, codings, quotes, by response."""
    emails = dict(db.session.execute(select(StaffUser.id, StaffUser.email)).all())
    out: dict[int, dict] = {}

    def entry(question_id: int, response_id: int) -> dict:
        return out.setdefault(response_id, {}).setdefault(codes[question_id], {})

    for mask in db.session.scalars(select(WrittenMask).where(WrittenMask.response_id.in_(response_ids))):
        entry(mask.question_id, mask.response_id)["mask"] = {"spans": mask.spans, "rules": mask.rules,
                                                              "edited": mask.edited}
    for coding in db.session.scalars(select(Coding).where(Coding.response_id.in_(response_ids))):
        entry(coding.question_id, coding.response_id).setdefault("codings", {})[coding.role] = {
            "themes": coding.themes, "suggested": coding.suggested, "coder": emails.get(coding.coder_id)}
    for quote in db.session.scalars(select(WrittenQuote).where(WrittenQuote.response_id.in_(response_ids))):
        entry(quote.question_id, quote.response_id)["quote"] = {"text": quote.text,
                                                                "approved_by": emails.get(quote.approved_by_id)}
    return out


def export_survey(survey: Survey, out: IO[str]) -> int:
    """Write the backup; returns the number of responses written."""
    count = -1
    for count, line in enumerate(export_lines(survey)):
        out.write(line + "\n")
    return count


def import_survey(lines: IO[str]) -> tuple[Survey, int]:
    """Restore a backup into this database (where the slug must be free). All or nothing."""
    try:
        header = json.loads(next(iter(lines)))
    except (StopIteration, json.JSONDecodeError) as error:
        raise RestoreError(f"line 1: not a survey backup ({error})") from None
    if header.get("backup_format") != BACKUP_FORMAT:
        raise RestoreError(f"line 1: backup format {header.get('backup_format')!r}; this version reads {BACKUP_FORMAT}")
    slug = header["definition"]["slug"]
    if db.session.scalar(select(Survey.id).where(Survey.slug == slug)) is not None:
        raise RestoreError(f"a survey '{slug}' already exists here; restore into a fresh database")
    try:
        survey = survey_from_definition(header["definition"])
        for name in RESTORED_SETTINGS:  # each by the rule every way in uses
            setattr(survey, name, settings.check(name, header[name]))
        settings.check_window(survey.opens_at, survey.closes_at)
        db.session.add(survey)
        db.session.flush()
        for margin in header["margins"]:
            db.session.add(PopulationMargin(survey_id=survey.id, variable=margin["variable"],
                                            category_code=margin["category"], population=margin["population"],
                                            source=margin["source"]))
        if header["invitations"]:
            db.session.execute(insert(Invitation), [
                {"survey_id": survey.id, "code_hash": i["code_hash"], "batch": i["batch"],
                 "created_at": _parse_moment(i["created_at"]), "used": i["used"]} for i in header["invitations"]])
        for s in header["snapshots"]:
            db.session.add(Snapshot(survey_id=survey.id, version=s["version"], status=s["status"],
                                    storage_path=s["storage_path"], created_at=_parse_moment(s["created_at"]),
                                    published_at=_parse_moment(s["published_at"]),
                                    withdrawn_at=_parse_moment(s["withdrawn_at"]),
                                    withdrawal_notice=s["withdrawal_notice"]))
        for code, themes in (header.get("codebooks") or {}).items():
            question = next((q for q in text_questions(survey) if q.code == code), None)
            if question is None:
                raise RestoreError(f"line 1: a codebook for '{code}', which is not a written question of the survey")
            for t in themes:
                db.session.add(Theme(question_id=question.id, number=int(t["number"]), label=str(t["label"]),
                                     translations=dict(t.get("translations") or {}), position=int(t["position"])))
        db.session.flush()
        question_ids = {q.code: q.id for q in survey.questions}
        count = 0
        responses = []
        for number, line in enumerate(lines, start=2):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                responses.append((row, number))
            except ValueError as error:  # not JSON, or an integer of thousands of digits
                raise RestoreError(f"line {number}: not JSON ({error})") from None
            if len(responses) >= BATCH:
                count += _insert(survey, question_ids, responses)
                responses = []
        count += _insert(survey, question_ids, responses)
        db.session.commit()
    except RestoreError:
        db.session.rollback()
        raise
    except (settings.SettingRefused, DefinitionError) as refused:
        db.session.rollback()
        raise RestoreError(f"line 1: {refused}") from None
    except (KeyError, TypeError, ValueError) as error:
        db.session.rollback()
        raise RestoreError(f"the backup is damaged or incomplete: {error!r}") from None
    except Exception:
        db.session.rollback()
        raise
    return survey, count


def _insert(survey: Survey, question_ids: dict[str, int], rows: list[tuple[dict, int]]) -> int:
    if not rows:
        return 0
    ids = insert_responses(db.session.connection(), [  # new random ids, as every way in gives
        {"survey_id": survey.id, "submitted_on": dt.date.fromisoformat(row["submitted_on"]), "mode": row["mode"],
         "language": row["language"]} for row, _ in rows])
    answer_rows = []
    questions = {q.code: q for q in survey.questions}
    for response_id, (row, number) in zip(ids, rows):
        for code, value, number_value, text in row["answers"]:
            if code not in question_ids:
                raise RestoreError(f"line {number}: an answer to '{code}', which the survey does not have")
            _check_answer(questions[code], value, number_value, text, number)
            answer_rows.append({"response_id": response_id, "question_id": question_ids[code], "value": value,
                                "number": number_value, "text": text})
    if answer_rows:
        db.session.execute(insert(Answer.__table__), answer_rows)
    _insert_written(survey, question_ids, ids, rows)
    return len(rows)


def _insert_written(survey: Survey, question_ids: dict[str, int], ids: list[int], rows) -> None:
    """The masks, codings and quotes of a batch's written answers, under their new response ids."""
    staff = dict(db.session.execute(select(StaffUser.email, StaffUser.id)).all())
    masks, codings, quotes = [], [], []
    for response_id, (row, number) in zip(ids, rows):
        for code, done in (row.get("written") or {}).items():
            written = {c for c, _, _, text in row["answers"] if text is not None}
            if code not in written:
                raise RestoreError(f"line {number}: masks or codings of '{code}', which this response did not write")
            key = {"question_id": question_ids[code], "response_id": response_id}
            if "mask" in done:
                masks.append({**key, "spans": done["mask"]["spans"], "rules": int(done["mask"]["rules"]),
                              "edited": bool(done["mask"]["edited"])})
            for role, coding in (done.get("codings") or {}).items():
                codings.append({**key, "role": role, "themes": coding["themes"], "suggested": coding.get("suggested"),
                                "coder_id": staff.get(coding.get("coder"))})
            if "quote" in done:
                quotes.append({**key, "text": str(done["quote"]["text"]),
                               "approved_by_id": staff.get(done["quote"].get("approved_by"))})
    for model, values in ((WrittenMask, masks), (Coding, codings), (WrittenQuote, quotes)):
        if values:
            db.session.execute(insert(model.__table__), values)


def _check_answer(question: Question, value, number_value, text, line: int) -> None:
    """The question type's own check on a stored answer, as every other way in applies it."""
    try:
        question_type(question.type).check_stored(question, value, number_value, text)
    except AnswerRefused as refused:
        raise RestoreError(f"line {line}: the answer to '{question.code}' is refused: {refused}. Nothing was "
                           "restored; remove that response in the survey it came from (Responses, then "
                           "Remove) and export it again.") from None


def find_survey(slug: str) -> Survey | None:
    return db.session.scalar(select(Survey).where(Survey.slug == slug).options(
        selectinload(Survey.questions).selectinload(Question.options)))
