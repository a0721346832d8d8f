"""The survey a staff address names: loaded with its whole questionnaire (404 if there is none),
and the name the audit log gives it. Every staff area that works on one survey uses these."""
from __future__ import annotations

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Page, Question, Survey


def survey_or_404(survey_id: int) -> Survey:
    """The survey with its pages, questions and answer options loaded, or a 404."""
    survey = db.session.scalar(
        select(Survey).where(Survey.id == survey_id)
        .options(selectinload(Survey.pages).selectinload(Page.questions).selectinload(Question.options))
    )
    if survey is None:
        abort(404)
    return survey


def audit_target(survey: Survey) -> str:
    """How an audit entry names the survey it is about."""
    return f"survey {survey.slug}"
