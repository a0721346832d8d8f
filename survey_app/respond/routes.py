"""Resident views: thin; the work is in forms/response.py and responses.py."""
from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import csrf, db
from ..forms.response import answers_from_form, build_response_form, field_name, hidden_questions
from ..models import Question, Survey
from ..responses import record_response
from . import bp

# Status and page for each reason a survey does not take responses. Drafts
# are invisible to the public, so they look like unknown surveys.
UNAVAILABLE = {
    "closed": (410, "respond/closed.html"),
    "not_yet_open": (403, "respond/not_open.html"),
}


def _survey_or_404(slug: str) -> Survey:
    survey = db.session.scalar(
        select(Survey)
        .where(Survey.slug == slug)
        .options(selectinload(Survey.pages), selectinload(Survey.questions).selectinload(Question.options))
    )
    if survey is None or survey.status == "draft":
        abort(404)
    return survey


@bp.get("/")
def home():
    surveys = db.session.scalars(select(Survey).where(Survey.status == "open").order_by(Survey.title)).all()
    return render_template("respond/home.html", surveys=[s for s in surveys if s.availability() == "open"])


# CSRF is checked by the form itself (FlaskForm validates its token), not by
# the global CSRFProtect hook, so that a resident whose token expired gets
# the form back with every answer kept instead of a bare error page.
@bp.route("/s/<slug>", methods=["GET", "POST"])
@csrf.exempt
def survey(slug: str):
    survey = _survey_or_404(slug)
    availability = survey.availability()
    if availability != "open":
        status, template = UNAVAILABLE[availability]
        return render_template(template, survey=survey), status

    hidden = hidden_questions(survey, request.form) if request.method == "POST" else frozenset()
    form = build_response_form(survey, hidden)()
    status, token_expired = 200, False
    if request.method == "POST":
        if form.validate():
            record_response(survey, answers_from_form(survey, form, hidden))
            return redirect(url_for(".thanks", slug=slug), code=303)
        # A bad or missing token: 400; answers that fail their checks: 422.
        token_expired = bool(form.meta.csrf and form.csrf_token.errors)
        status = 400 if token_expired else 422
    return render_template("respond/survey.html", survey=survey, form=form, field_name=field_name,
                           token_expired=token_expired), status


@bp.get("/s/<slug>/thanks")
def thanks(slug: str):
    return render_template("respond/thanks.html", survey=_survey_or_404(slug))
