"""Resident views: thin; the rules live in forms/response.py (questions, checks, display logic)
and drafts.py (answers in progress, submitting once).

A resident starts from the survey's welcome page (in invitation mode by typing the code from
their letter), answers page by page (each page saved to a draft, so Back, a change of language
and "finish later" lose nothing), and submits on the last page. The browser keeps two cookies:
the draft's resume code while the survey is in progress, and after submitting that it has
answered (one response per browser for open-link surveys). Neither reaches the response.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import (
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale, refresh
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from sqlalchemy import select
from wtforms.validators import ValidationError

from .. import access_codes, drafts
from ..extensions import csrf, db
from ..links import public_url
from ..forms.response import (
    answers_from_form,
    field_name,
    field_names,
    display_state,
    known_answers,
    page_questions,
    visible_pages,
)
from ..i18n import choose, current_language
from ..models import ResponseDraft, Survey
from ..rate_limits import rate_limits
from . import bp
from .survey_cache import PAGES_PER_SURVEY, CachedSurvey, survey_cache

# Status and page for each reason a survey does not take responses. Drafts
# are invisible to the public, so they look like unknown surveys.
UNAVAILABLE = {
    "closed": (410, "respond/closed.html"),
    "not_yet_open": (403, "respond/not_open.html"),
}
ANSWERED_DAYS = 365


@dataclass(frozen=True)
class Visit:
    """What a resident's request works with: the survey as it is now (``cached``: read-only,
    shared by this process's requests, see survey_cache) and this browser's unexpired draft of
    it with the draft's resume code (both None when the browser has none)."""

    cached: CachedSurvey
    draft: ResponseDraft | None = None
    code: str | None = None

    @property
    def survey(self) -> Survey:
        return self.cached.survey


def _open(slug: str) -> Visit:
    """The survey at ``slug`` as it is now, with this browser's draft of it; 404 if there is none
    (a survey still in draft looks unknown to the public).

    A browser with a draft cookie of the survey this process last saw at ``slug`` has its draft
    looked up in the same query as the survey's stamp (every page a resident posts needs both).
    The cookie is named by the survey's id, so the id is taken from that copy (no query); if the
    address now belongs to another survey, the draft is looked up again with that one's cookie.
    """
    cache = survey_cache()
    known = cache.peek(slug)
    found = None
    code = _browser_code(known.survey) if known is not None else None
    if code is not None:
        stamped = drafts.stamp_and_find(slug, code)
        if stamped is None:
            abort(404)
        stamp, found = stamped
        cached = cache.get(slug, stamp)
    else:
        cached = cache.get(slug)
    if cached is None or cached.survey.status == "draft":
        abort(404)
    if code is None or cached.survey.id != known.survey.id:
        code = _browser_code(cached.survey)
        found = drafts.find(cached.survey, code)
    _allow_languages(cached)
    return Visit(cached, found, code if found is not None else None)


def _allow_languages(cached: CachedSurvey) -> None:
    # The languages this survey's pages may be shown in: Flask-Babel's locale selector reads them
    # (i18n.select_language), as do the templates' language links.
    g.allowed_languages = cached.languages


def _unavailable(survey: Survey):
    availability = survey.availability()
    if availability == "open":
        return None
    status, template = UNAVAILABLE[availability]
    return render_template(template, survey=survey), status


def _draft_cookie(survey: Survey) -> str:
    return f"draft-{survey.id}"


def _answered_cookie(survey: Survey) -> str:
    return f"answered-{survey.id}"


def _set_cookie(response, name: str, value: str, days: int) -> None:
    response.set_cookie(name, value, max_age=days * 86400, httponly=True, samesite="Lax",
                        secure=current_app.config["RESIDENT_COOKIE_SECURE"])


def _browser_code(survey: Survey) -> str | None:
    """The resume code this browser holds for the survey (normalised), if any."""
    return access_codes.normalise(request.cookies.get(_draft_cookie(survey)))


def _has_answered(survey: Survey) -> bool:
    return survey.access_mode == "open" and request.cookies.get(_answered_cookie(survey)) == "1"


def _page_url(survey: Survey, index: int, **args) -> str:
    return url_for(".page", slug=survey.slug, number=index + 1, **args)


def _go_to_draft(visit: Visit, draft, code: str):
    """Continue a draft in this browser: remember its code and open the page it was left on."""
    survey = visit.survey
    # Remembered in the session only where it differs from what this browser is shown anyway
    # (a draft resumed on another device): an unchanged session is not signed and sent again.
    if draft.language in visit.cached.languages and draft.language != current_language():
        choose(draft.language)
        refresh()
    response = redirect(_page_url(survey, draft.page), code=303)
    _set_cookie(response, _draft_cookie(survey), code, drafts.DRAFT_DAYS)
    return response


@bp.get("/")
def home():
    surveys = db.session.scalars(select(Survey).where(Survey.status == "open").order_by(Survey.title)).all()
    return render_template("respond/home.html", surveys=[s for s in surveys if s.availability() == "open"])


@bp.get("/s/<slug>")
def survey(slug: str):
    """The welcome page: what the survey is, how answers are kept, and the way in.

    Every resident's first request. A new resident's page (no draft in the browser) is served
    from this server's copy of the survey without asking the database, if that copy was found
    current less than RESIDENT_PAGE_MAX_AGE_SECONDS ago (one second): under load the question
    is asked once a second instead of once a resident. An edit or a closing shows on this
    page within that second, and at once on every request that writes: Start inserts its
    draft only if the copy is still current, and a posted page checks as always.
    """
    recent = survey_cache().recent(slug, current_app.config["RESIDENT_PAGE_MAX_AGE_SECONDS"])
    if (recent is not None and recent.survey.status != "draft"
            and _draft_cookie(recent.survey) not in request.cookies):
        _allow_languages(recent)
        visit = Visit(recent)
    else:
        visit = _open(slug)
    survey = visit.survey
    refused = _unavailable(survey)
    if refused:
        return refused
    if _has_answered(survey):
        return render_template("respond/answered.html", survey=survey)
    if visit.draft is None:
        return _page_for_everyone(visit.cached, "respond/welcome.html")
    return render_template("respond/welcome.html", survey=survey, draft=visit.draft)


# Where the CSRF token goes in a page for everyone: random per process, so that no text of a
# survey can hold it.
_TOKEN_SLOT = "csrf-token-slot-" + secrets.token_hex(16)


def _page_for_everyone(cached: CachedSurvey, template: str) -> str:
    """``template`` for a resident with nothing of their own on it, from this process's copy.

    The welcome page is the first request of every resident, and rendering it (Jinja,
    Flask-Babel's gettext, url_for) was 16% of the instructions of a whole submission in
    process (valgrind, bench/load.py's flow). So it is rendered once per survey version (the
    entry in survey_cache), language and script root, and each resident gets that HTML with
    their own CSRF token put in its slot.

    What makes sharing it safe is how it is rendered (``_render_for_nobody``): in a request of
    its own, made from nothing of the resident's (no cookie, no session, no query string, a
    fresh ``g``), with only the survey given to the template. Whatever the template reads of
    the request, the session or the signed-in user, it reads that blank request's; nothing of
    one resident can reach another's page. A browser with something of its own to show
    (messages waiting, staff signed in) gets its page rendered for it as usual.
    """
    token = generate_csrf()  # the session's token, made now if it has none
    if "_flashes" in session or "_user_id" in session:
        return render_template(template, survey=cached.survey, draft=None)
    language = current_language()
    key = (template, language, request.script_root)
    html = cached.pages.get(key)
    if html is None:
        html = _render_for_nobody(cached, template, language)
        if len(cached.pages) < PAGES_PER_SURVEY:
            cached.pages[key] = html
    return html.replace(_TOKEN_SLOT, token)


def _render_for_nobody(cached: CachedSurvey, template: str, language: str) -> str:
    app = current_app._get_current_object()
    # The same address under a fixed host, never the request's (its Host header is the
    # sender's to write), and nothing else of the request.
    path, base_url = request.path, f"http://shared.invalid{request.script_root}/"
    # A new app context first: the request context then takes it, so that its ``g`` (where
    # Flask-WTF keeps the token, Flask-Login the user, Flask-Babel the locale) starts empty.
    # (test_request_context is Flask's way to make a request from an address alone.)
    with app.app_context(), app.test_request_context(path, base_url=base_url), force_locale(language):
        _allow_languages(cached)
        return render_template(template, survey=cached.survey, draft=None, csrf_token=lambda: _TOKEN_SLOT)


def _code_refused_message(reason: str) -> str:
    return {
        "invalid": _("An invitation code has 12 letters and numbers, like 7KQ2-M9XD-4HRT. "
                     "Please check the code in your letter."),
        "unknown": _("We could not find that code for this survey. Please check it against your letter."),
        "used": _("That code has already been used to answer this survey. Each code can answer once."),
    }[reason]


# CSRF is checked in these views, so that an expired token gives the page back (with the
# code typed so far) instead of an error page.
@bp.post("/s/<slug>/start")
@csrf.exempt
@rate_limits.limit("START_RATE_LIMIT")
def start(slug: str):
    """Begin (or continue) answering. Invitation surveys need the code from the letter."""
    started = _start_from_cache(slug)
    if started is not None:
        return started
    visit = _open(slug)
    survey = visit.survey
    refused = _unavailable(survey)
    if refused:
        return refused
    typed = request.form.get("code", "")
    if not _csrf_ok():
        return render_template("respond/welcome.html", survey=survey, draft=visit.draft,
                               code=typed, token_expired=True), 400
    if survey.access_mode == "invitation":
        if not typed.strip() and visit.draft is not None:  # "Continue": the code is in this browser
            return _go_to_draft(visit, visit.draft, visit.code)
        return _open_invitation(visit, typed, "respond/welcome.html")
    if _has_answered(survey):
        return redirect(url_for(".survey", slug=slug), code=303)
    if visit.draft is not None:
        return _go_to_draft(visit, visit.draft, visit.code)
    draft, code = drafts.start(survey, current_language())
    return _go_to_draft(visit, draft, code)


def _start_from_cache(slug: str):
    """Start on an open-link survey in one round trip, or None to start the checked way.

    The everyday Start (a new resident, the form's token good) needs nothing from the
    database but the new draft. This process's copy of the survey is taken without asking
    whether it is current, and the draft is inserted only if the survey's stamp is still that
    copy's (drafts.start with ``stamp``): a survey edited, closed or deleted meanwhile stores
    nothing, and the request goes the usual way, which reads the survey afresh. Everything
    else (invitations, a draft or an answer already in the browser, an expired token, a
    survey not open) goes the usual way from the start.
    """
    cached = survey_cache().peek(slug)
    if cached is None:
        return None
    survey = cached.survey
    if (survey.status == "draft" or survey.access_mode != "open" or survey.availability() != "open"
            or _draft_cookie(survey) in request.cookies or _has_answered(survey) or not _csrf_ok()):
        return None
    _allow_languages(cached)
    started = drafts.start(survey, current_language(), stamp=cached.stamp)
    if started is None:  # the survey changed: the usual way sees it as it is now
        refresh()  # the language was chosen among the old version's languages
        return None
    draft, code = started
    return _go_to_draft(Visit(cached), draft, code)


@bp.route("/s/<slug>/resume", methods=["GET", "POST"])
@csrf.exempt
@rate_limits.limit("CODE_RATE_LIMIT", methods=("POST",))
def resume(slug: str):
    """Continue with a resume code (or, in invitation mode, the invitation code)."""
    visit = _open(slug)
    survey = visit.survey
    refused = _unavailable(survey)
    if refused:
        return refused
    if request.method == "GET":
        return render_template("respond/resume.html", survey=survey)
    if not _csrf_ok():
        return render_template("respond/resume.html", survey=survey, code=request.form.get("code", ""),
                               token_expired=True), 400
    return _resume_with(visit, request.form.get("code", ""))


@bp.get("/s/<slug>/resume/<code>")
def old_resume_link(slug: str, code: str):
    """Resume links handed out when the code was part of the path: sent on to the resume page
    with the code after the '#', where the resident presses Continue.

    Such a link keeps working (a resident may have written it down, or bookmarked it), but
    opens nothing by itself: no lookup, so no answer to a guess, and a draft opens only by
    the form, which asks before it takes the place of answers in progress in this browser.
    The request that brought the code here is in the proxy's log already; the redirect adds
    none (the part after '#' never leaves the browser).
    """
    code = access_codes.normalise(code)
    target = (url_for(".resume", slug=slug, _anchor=access_codes.display(code)) if code
              else url_for(".resume", slug=slug))
    response = redirect(target, code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


def _resume_with(visit: Visit, typed: str):
    """A resume code typed (or filled in from a resume link), or in invitation mode the
    invitation code: continue the draft it opens, asking first if it is not this browser's."""
    survey, mine = visit.survey, visit.draft
    draft = drafts.find(survey, typed)
    if draft is None and survey.access_mode == "invitation" and access_codes.normalise(typed):
        return _open_invitation(visit, typed, "respond/resume.html")
    if draft is None:
        message = (_code_refused_message("invalid") if access_codes.normalise(typed) is None else
                   _("We could not find answers saved with that code. Saved answers are kept for "
                     "%(days)s days; after that, please start again.", days=drafts.DRAFT_DAYS))
        return render_template("respond/resume.html", survey=survey, code=typed, code_error=message), 422
    if mine is not None and mine.id != draft.id and request.form.get("choice") != "other":
        return _choose_draft(visit, draft, typed, url_for(".resume", slug=survey.slug))
    return _go_to_draft(visit, draft, access_codes.normalise(typed))


def _open_invitation(visit: Visit, typed: str, template: str):
    """An invitation code typed on the welcome page (``template``) or the resume page.

    The code opens the survey, but not answers saved on another device: those are sealed with
    that draft's own resume code. The resident continues with that code, or starts again.
    A draft in progress in this browser is never put aside without the resident choosing to.
    """
    survey, mine = visit.survey, visit.draft
    try:
        opened = drafts.open_invitation(survey, typed)
    except drafts.CodeRefused as error:
        message = _code_refused_message(error.reason)
        if error.reason == "unknown" and template == "respond/resume.html":
            message = _("We could not find answers saved with that code, or an invitation with it. "
                        "Saved answers are kept for %(days)s days; after that, please start again.",
                        days=drafts.DRAFT_DAYS)
        return render_template(template, survey=survey, draft=mine, code=typed, code_error=message), 422
    choice = request.form.get("choice")
    if opened.draft is not None and mine is not None and opened.draft.id == mine.id:
        return _go_to_draft(visit, mine, visit.code)
    if mine is not None and choice not in ("other", "restart"):
        return _choose_draft(visit, opened.draft, typed, url_for(".start", slug=survey.slug))
    if opened.draft is not None and choice != "restart":
        return _started_elsewhere(survey, opened.draft, typed)
    try:
        draft, code = drafts.start_invitation(survey, opened.invitation, current_language(),
                                              replace=choice == "restart")
    except drafts.StartedElsewhere:
        return _started_elsewhere(survey, None, typed)
    return _go_to_draft(visit, draft, code)


def _choose_draft(visit: Visit, other, typed: str, action: str):
    """This browser has a draft in progress and a code opens another (or starts one): ask."""
    survey, mine = visit.survey, visit.draft
    response = make_response(render_template(
        "respond/choose_draft.html", survey=survey, mine=mine, other=other, code=typed, action=action,
        total=len(survey.pages), my_code=access_codes.display(visit.code),
        mine_url=_page_url(survey, mine.page), days=drafts.DRAFT_DAYS))
    response.headers["Cache-Control"] = "no-store"
    return response


def _started_elsewhere(survey: Survey, draft, typed: str):
    """The invitation's answers in progress are sealed with a resume code this browser does
    not hold: ask for it, or let the resident start again."""
    return render_template("respond/resume.html", survey=survey, elsewhere=True, elsewhere_draft=draft,
                           invitation_code=typed, total=len(survey.pages), days=drafts.DRAFT_DAYS)


def _csrf_ok() -> bool:
    try:
        validate_csrf(request.form.get("csrf_token"))
    except (ValidationError, CSRFError):
        return False
    return True


def _render_page(survey, draft, index, form, visible, shown, status=200, token_expired=False):
    page = survey.pages[index]
    questions = page_questions(page)
    known = known_answers(shown, exclude={q.code for q in questions})
    later = [v for v in visible if v > index]
    return render_template(
        "respond/page.html", survey=survey, page=page, questions=questions, index=index, form=form,
        field_name=field_name,
        position=(visible.index(index) + 1) if index in visible else 1, total=max(len(visible), 1),
        is_first=not [v for v in visible if v < index], is_last=not later, known_answers=known,
        token_expired=token_expired, invitation=draft.invitation_id is not None,
    ), status


# CSRF is checked in the view (not by the global CSRFProtect hook), so that a resident
# whose token expired gets the page back with every answer kept instead of an error page.
@bp.route("/s/<slug>/page/<int:number>", methods=["GET", "POST"])
@csrf.exempt
@rate_limits.limit("PAGE_RATE_LIMIT", methods=("POST",))
def page(slug: str, number: int):
    visit = _open(slug)
    survey, draft, code = visit.survey, visit.draft, visit.code
    refused = _unavailable(survey)
    if refused:
        return refused
    if draft is None:
        flash(_("Your answers in progress were not found in this browser. Start again, or continue "
                "with the code you wrote down."), "info")
        return redirect(url_for(".survey", slug=slug), code=303)
    index = number - 1
    if not 0 <= index < len(survey.pages):
        abort(404)
    questions = page_questions(survey.pages[index])
    form_class = visit.cached.form_class

    try:
        kept = drafts.unseal(draft, code)
    except drafts.DraftUnreadable:
        current_app.logger.warning("draft %s: its code does not unseal its answers", draft.id)
        flash(_("Your answers in progress could not be opened. Please start again."), "info")
        response = redirect(url_for(".survey", slug=slug), code=303)
        response.delete_cookie(_draft_cookie(survey))
        return response

    if request.method == "GET":
        data = drafts.formdata(kept)
        hidden, shown = display_state(survey, data)
        visible = visible_pages(survey, hidden)
        if index > draft.furthest:
            return redirect(_page_url(survey, draft.furthest))  # no skipping ahead
        if index not in visible:
            onward = [v for v in visible if v >= index] or visible[-1:]
            return redirect(_page_url(survey, onward[0]) if onward else url_for(".survey", slug=slug))
        # The page's token is csrf_token() in the template; the view checks it on POST.
        form = form_class(hidden, questions)(formdata=data, meta={"csrf": False})
        if request.args.get("check"):
            form.validate()
        return _render_page(survey, draft, index, form, visible, shown, status=422 if form.errors else 200)

    if not _csrf_ok():
        # Nothing saved (the request may not be the resident's), everything posted shown again.
        hidden, shown = display_state(survey, request.form)
        form = form_class(hidden, questions)(formdata=request.form, meta={"csrf": False})
        return _render_page(survey, draft, index, form, visible_pages(survey, hidden), shown, status=400,
                            token_expired=True)

    data = drafts.formdata(drafts.keep(draft, code, kept, field_names(questions), request.form))
    hidden, shown = display_state(survey, data)
    visible = visible_pages(survey, hidden)
    action = request.form.get("action", "next")
    draft.page = index

    if action.startswith("language:"):
        language = action.split(":", 1)[1]
        if language in visit.cached.languages:
            choose(language)
            draft.language = language
        db.session.commit()
        return redirect(_page_url(survey, index), code=303)
    if action == "back":
        earlier = [v for v in visible if v < index]
        if earlier:
            draft.page = earlier[-1]
        db.session.commit()
        return redirect(_page_url(survey, earlier[-1]) if earlier else url_for(".survey", slug=slug), code=303)
    if action == "save":
        db.session.commit()
        return redirect(url_for(".saved", slug=slug), code=303)

    form = form_class(hidden, questions)(formdata=data, meta={"csrf": False})
    if not form.validate():
        db.session.commit()  # the answers are kept even though they need fixing
        return _render_page(survey, draft, index, form, visible, shown, status=422)
    later = [v for v in visible if v > index]
    if later:
        draft.page = later[0]
        draft.furthest = max(draft.furthest, later[0])
        db.session.commit()
        return redirect(_page_url(survey, later[0]), code=303)
    # A one-page survey's page form is the whole form, checked just now.
    return _submit(visit, data, hidden, visible, checked=form if len(survey.pages) == 1 else None)


def _submit(visit: Visit, data, hidden, visible, checked=None):
    """The last page passed: check every shown page once more (earlier answers may have shown
    a page not yet seen), then store the response and forget the draft."""
    survey, draft = visit.survey, visit.draft
    full = checked if checked is not None else visit.cached.form_class(hidden)(formdata=data, meta={"csrf": False})
    if checked is None and not full.validate():
        for index in visible:
            names = set(field_names(page_questions(survey.pages[index])))
            if names & set(full.errors):
                draft.page = index
                draft.furthest = max(draft.furthest, index)
                db.session.commit()
                return redirect(_page_url(survey, index, check=1), code=303)
    language = current_language()
    try:
        drafts.submit(survey, draft, answers_from_form(survey, full, hidden), language)
    except drafts.SubmitRefused as refused:
        response = make_response(render_template("respond/already_submitted.html", survey=survey,
                                                 reason=refused.reason), 409)
        response.delete_cookie(_draft_cookie(survey))
        return response
    response = redirect(url_for(".thanks", slug=survey.slug), code=303)
    response.delete_cookie(_draft_cookie(survey))
    if survey.access_mode == "open":
        _set_cookie(response, _answered_cookie(survey), "1", ANSWERED_DAYS)
    return response


@bp.get("/s/<slug>/saved")
def saved(slug: str):
    """How to come back: the resume code and link (only this browser can see them)."""
    visit = _open(slug)
    survey, draft = visit.survey, visit.draft
    if draft is None:
        return redirect(url_for(".survey", slug=slug))
    code = access_codes.display(visit.code)
    response = make_response(render_template(
        "respond/saved.html", survey=survey, draft=draft, code=code,
        # The code after '#': a browser never sends that part, so no log along the way holds it.
        link=public_url(".resume", slug=slug, _anchor=code),
        days=drafts.DRAFT_DAYS, invitation=draft.invitation_id is not None))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/s/<slug>/thanks")
def thanks(slug: str):
    return render_template("respond/thanks.html", survey=_open(slug).survey)


@bp.get("/s/<slug>/privacy")
def privacy(slug: str):
    return render_template("respond/privacy.html", survey=_open(slug).survey, days=drafts.DRAFT_DAYS)
