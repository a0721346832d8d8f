"""``Survey.revision``: one more in every flush that changes a survey's questionnaire.

Everything a resident page shows comes from the survey row and its pages, questions and
answer options, and the resident pages keep that graph loaded in each process under the
survey's revision (``survey_cache``). So any change to one of those rows made through the
ORM (the designer, translations, JSON import, opening and closing, dates) adds one to the
revision in the same flush, as ``SET revision = revision + 1``, which stays right when two
editors save at the same moment. Every server sees the new number on its next request.

Bulk UPDATE and DELETE statements on these tables bypass the ORM and so this hook; the
application issues none (deleting a whole survey needs no bump: its id is gone).
"""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from ..models import AnswerOption, Page, Question, Survey


def _survey_id(session: Session, obj) -> int | None:
    if isinstance(obj, Survey):
        return obj.id
    if isinstance(obj, (Page, Question)):
        if obj.survey_id is not None:
            return obj.survey_id
        return obj.survey.id if obj.survey is not None else None
    if isinstance(obj, AnswerOption):
        question = obj.question
        if question is None and obj.question_id is not None:
            question = session.get(Question, obj.question_id)
        return _survey_id(session, question) if question is not None else None
    return None


@event.listens_for(Session, "before_flush")
def bump_revisions(session: Session, flush_context, instances) -> None:
    changed = set()
    with session.no_autoflush:
        for obj in session.new:
            changed.add(_survey_id(session, obj))
        for obj in session.deleted:
            changed.add(_survey_id(session, obj))
        for obj in session.dirty:
            if isinstance(obj, (Survey, Page, Question, AnswerOption)) and session.is_modified(
                    obj, include_collections=False):
                changed.add(_survey_id(session, obj))
        changed.discard(None)
        for survey_id in changed:
            survey = session.get(Survey, survey_id)
            if survey is None or survey in session.deleted:
                continue
            survey.revision = Survey.revision + 1
