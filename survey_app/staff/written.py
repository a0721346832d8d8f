"""What residents wrote: a question's written answers, paged, filtered and searched (thin views
over written_answers.py). Only for staff allowed to read them ("read_text"). The search and
filters are posted and kept in the session (see KEPT), so that the words looked for stay out of
the address and the logs."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from .. import written_answers as reading
from .. import written_coding as coding
from .. import written_quotes as quoting
from ..forms.staff import ConfirmForm
from ..response_review import ResponseFilters
from . import bp
from .access import permission_required
from .survey_lookup import survey_or_404


def _question(survey, code: str):
    question = next((q for q in reading.text_questions(survey) if q.code == code), None)
    if question is None:
        abort(404)
    return question


# What the reading page is narrowed to, kept in the (signed) session cookie between requests:
# posted, then shown by a redirect (so Back and reload never ask to send a form again), and never
# in an address or a log.
KEPT = ("search", "mode", "language", "since", "until", "page")


def _kept_key(survey, code: str) -> str:
    return f"written:{survey.id}:{code}"


@bp.route("/surveys/<int:survey_id>/written/<code>", methods=["GET", "POST"])
@permission_required("read_text")
def written_answers(survey_id: int, code: str):
    from ..i18n import LANGUAGES
    from ..models import RESPONSE_MODES
    from ..population import weighting_variables

    survey = survey_or_404(survey_id)
    questions = reading.text_questions(survey)
    question = _question(survey, code)
    form = ConfirmForm()
    here, key = url_for(".written_answers", survey_id=survey.id, code=code), _kept_key(survey, code)
    themes = coding.themes(question)
    if request.method == "POST" and form.validate_on_submit():
        kept = {k: v for k, v in request.form.items() if k in KEPT or k.startswith("g_")}
        if request.form.get("action") == "bulk":
            previewed = session.get(key, {})  # what the confirmation was shown for
            kept["confirm_theme"] = _bulk(survey, question, themes, kept, request.form, previewed)
        session[key] = kept
        return redirect(here, code=303)
    if "clear" in request.args:
        session.pop(key, None)
        return redirect(here, code=303)
    values = session.get(key, {})
    filters = ResponseFilters.from_args(values, survey, RESPONSE_MODES, LANGUAGES)
    search = reading.clean_search(values.get("search"))
    page = int(values["page"]) if str(values.get("page", "")).isdigit() else 1
    listing = reading.written_page(survey, question, page, filters, search)
    confirm, asked = None, values.get("confirm_theme")
    theme = next((t for t in themes if t.number == asked), None)
    if theme is not None:  # a bulk coding to confirm: asked once, on the answers found now
        session[key] = {k: v for k, v in values.items() if k != "confirm_theme"}
        confirm = coding.bulk_preview(question, reading.matching_ids(survey, question, filters, search), theme)
    return render_template("staff/written.html", survey=survey, question=question, listing=listing, form=form,
                           filters=filters, search=search, modes=RESPONSE_MODES, languages=LANGUAGES,
                           groups=weighting_variables(survey), page_size=reading.PAGE_SIZE,
                           others=[q for q in questions if q.code != code],
                           waves=reading.other_waves(survey, question), themes=themes,
                           given=coding.themes_given(question, [a.response_id for a in listing.answers]),
                           confirm=confirm), 200, {"Cache-Control": "no-store"}


def _bulk(survey, question, themes, kept: dict, posted, previewed: dict) -> int | None:
    """Give the chosen theme to every answer the search and filters find: first asked (the theme
    to confirm is returned, and the page then says how many answers gain it), done once confirmed
    for the very search and filters ``previewed`` (changed since: asked again)."""
    from ..i18n import LANGUAGES
    from ..models import RESPONSE_MODES

    number = _int(posted.get("bulk_theme"))
    theme = next((t for t in themes if t.number == number), None)
    filters = ResponseFilters.from_args(kept, survey, RESPONSE_MODES, LANGUAGES)
    search = reading.clean_search(kept.get("search"))
    if theme is None:
        flash("Choose the theme to give the answers found.", "error")
    elif not (filters.active() or search):
        flash("Search or filter the answers first: all of them at once are not coded in bulk.", "error")
    elif posted.get("confirmed") != "yes":
        return number
    elif {k: v for k, v in kept.items() if k != "page"} != {k: v for k, v in previewed.items() if k != "page"}:
        flash("The search or filters changed since you were asked: here is what the new ones would do.", "error")
        return number
    else:
        found = reading.matching_ids(survey, question, filters, search)
        try:
            gained = coding.code_in_bulk(question, found, number, current_user)
            flash(f"Gave “{theme.label}” to the {gained:,} answers found." if gained == len(found) else
                  f"Gave “{theme.label}” to {gained:,} of the {len(found):,} answers found (the others had it "
                  "already).", "info")
        except coding.CodingRefused as refused:
            flash(str(refused), "error")
    return None


@bp.route("/surveys/<int:survey_id>/written/<code>/<int:response_id>/masks", methods=["GET", "POST"])
@permission_required("read_text")
def written_masks(survey_id: int, code: str, response_id: int):
    """One answer as written, with what is masked in it: unmask a false alarm, mask more words."""
    from ..extensions import db
    from ..models import WrittenQuote
    from ..written_masking import KINDS, masked, pieces

    survey = survey_or_404(survey_id)
    question = _question(survey, code)
    found = reading.answer_of(question, response_id)
    if found is None or found[1].survey_id != survey.id:
        abort(404)
    answer, response = found
    form = ConfirmForm()
    here = url_for(".written_masks", survey_id=survey.id, code=code, response_id=response_id)
    error, typed = None, {}
    if request.method == "POST":
        if not form.validate_on_submit():
            error = "The form had expired: nothing was changed. Please try again."
        else:
            try:
                if request.form.get("action") == "quote":
                    quoting.approve(survey, question, response_id, request.form.get("excerpt", ""), current_user)
                    flash("Approved as a quote: the next analysis shows it on the draft results, then publishing "
                          "makes it public.", "info")
                elif request.form.get("action") == "withdraw_quote":
                    taken = quoting.withdraw(survey, question, response_id, current_user)
                    where = (f"; it was taken out of published version{'s' if len(taken) > 1 else ''} "
                             f"{', '.join(map(str, taken))} too (a copy a visitor's browser kept may show it for "
                             "up to five minutes)" if taken else "")
                    flash(f"Withdrew the quote: no results show it any more{where}.", "info")
                elif request.form.get("action") == "unmask":
                    span = reading.unmask(question, answer, response.language, _int(request.form.get("start")),
                                          _int(request.form.get("end")), current_user)
                    flash(f"Unmasked {KINDS[span.kind]}: it now shows as written wherever this answer is read or "
                          "coded (an approved quote keeps the words it was approved with).", "info")
                else:
                    places = reading.mask_more(question, answer, response.language, request.form.get("words", ""),
                                               request.form.get("kind", ""), current_user)
                    withdrawn = quoting.after_masking(survey, question, response_id, current_user)
                    flash(f"Masked {places} place{'' if places == 1 else 's'} in this answer." + (
                        " Its approved quote held those words, so it was withdrawn, from every published version "
                        "too: approve it again as masked now if it should stay." if withdrawn else ""), "info")
                return redirect(here, code=303)
            except (reading.MaskRefused, quoting.QuoteRefused) as refused:
                error, typed = str(refused), request.form
    spans = reading.masks_of(question, [(answer.response_id, answer.text, response.language)])[answer.response_id]
    page = render_template("staff/written_masks.html", survey=survey, question=question, answer=answer,
                           response=response, pieces=pieces(answer.text, spans), kinds=KINDS, form=form,
                           error=error, typed=typed, masked_text=masked(answer.text, spans),
                           quote=db.session.get(WrittenQuote, (question.id, response_id)))
    return page, 422 if error else 200, {"Cache-Control": "no-store"}


def _int(value) -> int:
    return int(value) if str(value or "").isdigit() else -1
