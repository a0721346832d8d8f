"""Stored responses: a plain list per survey, one response with its answers, and removal.

Thin views over response_review.py. Everyone who collects data sees the list and the coded
answers; written answers and removal are for editors and admins (accounts.PERMISSIONS).
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import response_review
from ..accounts import can
from ..forms.staff import ConfirmForm
from ..responses import MAX_RESPONSE_ID
from . import bp
from .access import permission_required
from .survey_lookup import survey_or_404

# A larger number is no response (and would overflow the database's integer): 404, not 500.
RESPONSE = f"<int(max={MAX_RESPONSE_ID}):response_id>"


def _response(survey, response_id: int):
    response = response_review.find_response(survey, response_id)
    if response is None:
        abort(404)
    return response


@bp.get("/surveys/<int:survey_id>/responses/list")
@permission_required("collect")
def response_list(survey_id: int):
    from ..i18n import LANGUAGES
    from ..models import RESPONSE_MODES
    from ..population import weighting_variables

    survey = survey_or_404(survey_id)
    filters = response_review.ResponseFilters.from_args(request.args, survey, RESPONSE_MODES, LANGUAGES)
    listing = response_review.response_page(survey, request.args.get("page", 1, type=int), filters)
    return render_template("staff/response_list.html", survey=survey, listing=listing, filters=filters,
                           modes=RESPONSE_MODES, languages=LANGUAGES, groups=weighting_variables(survey),
                           may_remove=can(current_user, "remove_responses"))


@bp.get(f"/surveys/<int:survey_id>/responses/{RESPONSE}")
@permission_required("collect")
def response_detail(survey_id: int, response_id: int):
    survey = survey_or_404(survey_id)
    response = _response(survey, response_id)
    may_read_text = can(current_user, "read_text")
    answers = response_review.answers_shown(survey, response, may_read_text)
    return render_template("staff/response.html", survey=survey, response=response, answers=answers,
                           may_read_text=may_read_text, may_remove=can(current_user, "remove_responses")), \
        200, {"Cache-Control": "no-store"}


@bp.route(f"/surveys/<int:survey_id>/responses/{RESPONSE}/remove", methods=["GET", "POST"])
@permission_required("remove_responses")
def remove_response(survey_id: int, response_id: int):
    """A confirmation page that says what will be lost; the removal itself needs a reason."""
    survey = survey_or_404(survey_id)
    response = _response(survey, response_id)
    form = ConfirmForm()
    error, status = "", 200
    reason = request.form.get("reason", "")
    if request.method == "POST":
        if not form.validate_on_submit():
            error, status = "The form had expired. Nothing was removed; please confirm again.", 400
        else:
            day, mode, language = response.submitted_on, response.mode, response.language
            try:
                response_review.remove_response(survey, response, reason)
            except response_review.RemovalRefused as refused:
                error, status = str(refused), 422
            else:
                flash(f"Removed the {mode} response of {day.isoformat()} ({language}). Counts and the next "
                      "analysis leave it out; published versions stay as they were.", "info")
                return redirect(url_for(".response_list", survey_id=survey.id), code=303)
    return render_template("staff/response_remove.html", survey=survey, response=response, form=form,
                           answers=response_review.answer_count(response), reason=reason, error=error), status
