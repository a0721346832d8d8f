"""The questionnaire designer: surveys, pages, questions, the question bank, lifecycle, waves,
preview, and JSON import/export. Thin views: rules live in questionnaire/editing.py."""
from __future__ import annotations

import copy
import datetime as dt
import json

from flask import Response as FlaskResponse
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from .. import audit, drafts
from ..accounts import can
from ..extensions import db
from ..forms.response import build_response_form, field_name, hidden_questions
from ..forms.staff import (
    BankAddForm,
    ConfirmForm,
    ImportForm,
    NewSurveyForm,
    NextWaveForm,
    PageForm,
    QuestionForm,
    StatusForm,
    SurveySettingsForm,
    choices,
    condition_from_text,
    fill_question_form,
    item_from_form,
    logic_questions,
)
from ..models import BankItem, Page, Question, Survey, as_utc
from ..i18n import LANGUAGES
from ..questionnaire import bank, translation
from ..questionnaire import settings as settings_rules
from ..questionnaire.definition import definition_from_survey
from ..results import static_pages
from ..questionnaire.demo import COMMUNITY_TRUST
from ..uploads import ParseRefused, parse_json, upload_limit
from ..questionnaire.editing import (
    EditRefused,
    add_page,
    add_question,
    create_from_definition,
    delete_page,
    delete_question,
    duplicate,
    free_code,
    free_slug,
    move_question,
    next_wave,
    response_count,
    update_page,
    update_question,
    validate_definition,
)
from . import bp, confirmation
from .access import permission_required, staff_required
from .survey_lookup import audit_target, survey_or_404

EXPORT_FORMAT = 1
MAX_IMPORT_BYTES = 1024 * 1024


def _question(survey: Survey, question_id: int) -> Question:
    for question in survey.questions:
        if question.id == question_id:
            return question
    abort(404)


def _page(survey: Survey, page_id: int) -> Page:
    for page in survey.pages:
        if page.id == page_id:
            return page
    abort(404)


def _back(survey: Survey, anchor: str = ""):
    return redirect(url_for(".survey", survey_id=survey.id) + (f"#{anchor}" if anchor else ""), code=303)


def _refused(form, survey: Survey, anchor: str = ""):
    """A form whose checks failed (text over its limit, a choice not offered): nothing is
    changed, and the survey page says which field and what to do."""
    problems = " ".join(f"{getattr(form, name).label.text}: {errors[0].rstrip('.')}."
                        for name, errors in form.errors.items())
    flash(f"Nothing was changed. {problems} Correct it and try again.", "error")
    return _back(survey, anchor)


def _page_choices(survey: Survey):
    return choices((p.id, f"Page {i + 1}: {p.title or 'untitled'}") for i, p in enumerate(survey.pages))


def _staff_bank_items() -> list[dict]:
    return [dict(item.definition, construct=item.construct)
            for item in db.session.scalars(select(BankItem).order_by(BankItem.id))]


@bp.app_template_filter("condition_words")
def condition_words(condition: dict | None, survey: Survey) -> str:
    """A display condition in words, with the survey's question texts and option labels."""
    from ..questionnaire.logic import describe

    return describe(condition, {q.code: (q.text, {o.code: o.label for o in q.options}) for q in survey.questions})


# --- Surveys ---------------------------------------------------------------------------------

def _refused_creation(form_name: str, form: NewSurveyForm, messages: list[str]):
    """The dashboard again, with what was typed and what to change (nothing is created)."""
    from .admin import dashboard_page

    return dashboard_page({form_name: messages}, {form_name: {"title": form.title.data or "", "slug": form.slug.data or ""}},
                          422)


def _creation_problems(form: NewSurveyForm) -> list[str]:
    """What stops a new survey with the form's title and web address name, in words."""
    if not form.validate_on_submit():
        return [f"{field.label.text}: {error}" for field in (form.title, form.slug) for error in field.errors] or [
            "The form had expired; press the button again."]
    title = form.title.data.strip()
    if db.session.scalar(select(Survey.id).where(func.lower(Survey.title) == title.lower())):
        return [f"Title: a survey called “{title}” already exists, and the staff list and the public results would "
                f"show two surveys of the same name. Add what sets this one apart, such as the year or the area "
                f"(“{title} {dt.date.today().year}”)."]
    if db.session.scalar(select(Survey.id).where(Survey.slug == form.slug.data)):
        return [f"Web address name: “{form.slug.data}” is taken by another survey. Choose another, "
                f"such as “{free_slug(form.slug.data)}”."]
    return []


@bp.post("/surveys/new")
@permission_required("design")
def new_survey():
    form = NewSurveyForm()
    problems = _creation_problems(form)
    if problems:
        return _refused_creation("blank", form, problems)
    try:
        survey = create_from_definition({"slug": form.slug.data, "title": form.title.data.strip(),
                                         "pages": [{"title": "Page 1", "questions": []}]}, allow_empty_pages=True)
    except EditRefused as error:
        return _refused_creation("blank", form, [str(error).replace("slug: ", "Web address name: ")])
    db.session.flush()
    audit.record("survey.create", audit_target(survey))
    db.session.commit()
    return _back(survey)


@bp.post("/surveys/template")
@permission_required("design")
def new_from_template():
    """The "Community Trust in Policing" template as a new draft, under a title and web address
    staff give it (a second identical title would be two identical surveys on /results/)."""
    form = NewSurveyForm()
    problems = _creation_problems(form)
    if problems:
        return _refused_creation("template", form, problems)
    definition = copy.deepcopy(COMMUNITY_TRUST)
    definition["slug"], definition["title"] = form.slug.data, form.title.data.strip()
    survey = create_from_definition(definition)
    db.session.flush()
    translation.prefill(survey, "es")  # the template's wording has a reviewed Spanish version
    template_title = COMMUNITY_TRUST["title"]
    if survey.title.startswith(template_title):  # "... 2027", "... – North": the same words in Spanish
        spanish = translation.PHRASEBOOKS["es"].get(template_title)
        if spanish:
            translation.translate(survey, "es", {survey.title: spanish + survey.title[len(template_title):]})
    audit.record("survey.create_from_template", audit_target(survey), template="community-trust")
    db.session.commit()
    flash(f"Created “{survey.title}” from the Community Trust in Policing template. It is a draft: "
          "review it (and its Spanish title: the template's is prefilled), then open it.", "info")
    return _back(survey)


@bp.get("/surveys/<int:survey_id>")
@staff_required
def survey(survey_id: int):
    survey = survey_or_404(survey_id)
    settings = SurveySettingsForm(obj=survey)
    settings.opens_at.data = survey.opens_at.strftime("%Y-%m-%d %H:%M") if survey.opens_at else ""
    settings.closes_at.data = survey.closes_at.strftime("%Y-%m-%d %H:%M") if survey.closes_at else ""
    status = StatusForm(status=survey.status)
    return render_template("staff/survey.html", survey=survey, settings=settings, status_form=status,
                           page_form=PageForm(), confirm=ConfirmForm(), wave_form=NextWaveForm(),
                           responses=response_count(survey), can_design=can(current_user, "design"),
                           translation_status=[translation.coverage(survey, lang) for lang in LANGUAGES
                                               if lang != (survey.default_language or "en")])


def _settings_refused(survey: Survey, form: SurveySettingsForm, message: str):
    return render_template("staff/survey.html", survey=survey, settings=form,
                           status_form=StatusForm(status=survey.status), page_form=PageForm(),
                           confirm=ConfirmForm(), wave_form=NextWaveForm(), responses=response_count(survey),
                           can_design=True, settings_error=message), 422


@bp.post("/surveys/<int:survey_id>/settings")
@permission_required("design")
def settings(survey_id: int):
    survey = survey_or_404(survey_id)
    form = SurveySettingsForm()
    if not form.validate_on_submit():
        return _settings_refused(survey, form, "; ".join(
            f"{form[name].label.text}: {errors[0]}" for name, errors in form.errors.items()))
    try:
        # The form checked each setting by its rule; these are the values that rule stores.
        opens = settings_rules.check("opens_at", form.opens_at.data)
        closes = settings_rules.check("closes_at", form.closes_at.data)
        settings_rules.check_window(opens, closes)
    except settings_rules.SettingRefused as refused:
        return _settings_refused(survey, form, f"{settings_rules.label(refused.name)}: {refused.message}")
    if form.access_mode.data != survey.access_mode and survey.status != "draft":
        return _settings_refused(survey, form, "How residents get in: can change only while the survey is a "
                                 "draft (residents may be answering).")
    changes = {}
    for key in ("title", "introduction", "consent_text", "thank_you_text", "min_cell_size", "access_mode"):
        before, after = getattr(survey, key), getattr(form, key).data
        if before != after:
            changes[key] = [before, after]
            setattr(survey, key, after)
    for key, value in (("opens_at", opens), ("closes_at", closes)):
        before = getattr(survey, key)
        before = as_utc(before)
        if before != value:
            changes[key] = [before.isoformat() if before else None, value.isoformat() if value else None]
            setattr(survey, key, value)
    if changes:
        audit.record("survey.settings", audit_target(survey), **changes)
        db.session.commit()
        flash("Saved the survey settings.", "info")
    return _back(survey)


@bp.post("/surveys/<int:survey_id>/status")
@permission_required("design")
def set_status(survey_id: int):
    survey = survey_or_404(survey_id)
    form = StatusForm()
    if not form.validate_on_submit():
        return _refused(form, survey)
    new = form.status.data
    if new == survey.status:
        return _back(survey)
    if new == "open":
        empty = [p.title or f"page {i + 1}" for i, p in enumerate(survey.pages) if not p.questions]
        if not survey.questions:
            flash("A survey needs at least one question before it can open.", "error")
            return _back(survey)
        if empty:
            flash(f"Every page needs a question before the survey can open (empty: {', '.join(empty)}).", "error")
            return _back(survey)
        unfinished = translation.unfinished(survey, LANGUAGES)
        if unfinished:
            flash("A survey cannot open with a language half-translated: " + "; ".join(
                f"{LANGUAGES[c.language]} has {c.done} of {c.total} texts translated" for c in unfinished)
                + ". Finish the translation or remove it.", "error")
            return _back(survey)
    if new == "draft" and response_count(survey):
        flash("A survey with responses cannot go back to draft; close it instead.", "error")
        return _back(survey)
    audit.record("survey.status", audit_target(survey), status=[survey.status, new])
    survey.status = new
    if new == "closed":  # answers in progress can never be submitted now: they go at once
        drafts.purge_survey(survey)
    db.session.commit()
    if new == "draft":  # a draft's results are not public: nor are their page files
        static_pages.refresh(survey)
    flash(f"The survey is now {new}.", "info")
    return _back(survey)


@bp.post("/surveys/<int:survey_id>/next-wave")
@permission_required("design")
def start_next_wave(survey_id: int):
    survey = survey_or_404(survey_id)
    form = NextWaveForm()
    if not form.validate_on_submit():
        flash("; ".join(e for errors in form.errors.values() for e in errors), "error")
        return _back(survey)
    try:
        copy_ = next_wave(survey, form.slug.data)
    except EditRefused as error:
        db.session.rollback()
        flash(str(error).replace("slug: ", ""), "error")
        return _back(survey_or_404(survey_id))
    db.session.flush()
    audit.record("survey.next_wave", audit_target(copy_), source=survey.slug, wave=copy_.wave)
    db.session.commit()
    flash(f"Created wave {copy_.wave} as a draft copy of '{survey.title}'.", "info")
    return _back(copy_)


@bp.post("/surveys/<int:survey_id>/duplicate")
@permission_required("design")
def duplicate_survey(survey_id: int):
    """Any survey as a new draft of its own, under a title and web address staff give it."""
    survey = survey_or_404(survey_id)
    form = NewSurveyForm()
    problems = _creation_problems(form)
    if not problems:
        try:
            copy_ = duplicate(survey, form.title.data.strip(), form.slug.data)
        except EditRefused as error:
            db.session.rollback()
            problems = [str(error).replace("slug: ", "Web address name: ")]
    if problems:
        for problem in problems:
            flash(f"The survey was not duplicated. {problem}", "error")
        # What was typed comes back in the form.
        return redirect(url_for(".survey", survey_id=survey_id, dup_title=form.title.data or "",
                                dup_slug=form.slug.data or "") + "#duplicate", code=303)
    db.session.flush()
    audit.record("survey.duplicate", audit_target(copy_), source=survey.slug)
    db.session.commit()
    flash(f"Created “{copy_.title}” as a draft copy of “{survey.title}” (questions, translations, settings and "
          "population margins; no responses).", "info")
    return _back(copy_)


@bp.get("/surveys/<int:survey_id>/export.json")
@staff_required
def export_survey(survey_id: int):
    survey = survey_or_404(survey_id)
    body = json.dumps({"format": EXPORT_FORMAT, **definition_from_survey(survey)}, indent=2, ensure_ascii=False)
    return FlaskResponse(body, mimetype="application/json",
                         headers={"Content-Disposition": f'attachment; filename="{survey.slug}.json"'})


@bp.route("/surveys/import", methods=["GET", "POST"])
@upload_limit(MAX_IMPORT_BYTES)
@permission_required("design")
def import_survey():
    form = ImportForm()
    error = None
    if form.validate_on_submit():
        raw = form.file.data.read(MAX_IMPORT_BYTES + 1)
        try:
            if len(raw) > MAX_IMPORT_BYTES:
                raise EditRefused(f"file: larger than {MAX_IMPORT_BYTES // 1024} KB")
            try:
                definition = parse_json(raw.decode("utf-8-sig"))
            except UnicodeDecodeError:
                raise EditRefused("file: not UTF-8 text (save it as UTF-8 JSON)") from None
            except ParseRefused as problem:
                raise EditRefused(f"file: {problem}") from None
            if isinstance(definition, dict):
                definition.pop("format", None)
            survey = create_from_definition(definition)
            db.session.flush()
        except EditRefused as problem:
            db.session.rollback()
            error = str(problem)
        else:
            audit.record("survey.import", audit_target(survey))
            db.session.commit()
            flash(f"Imported '{survey.title}' as a draft.", "info")
            return _back(survey)
    elif request.method == "POST":
        error = "; ".join(e for errors in form.errors.values() for e in errors)
    return render_template("staff/import.html", form=form, error=error), (422 if error else 200)


# --- Pages -----------------------------------------------------------------------------------

@bp.post("/surveys/<int:survey_id>/pages")
@permission_required("design")
def new_page(survey_id: int):
    survey = survey_or_404(survey_id)
    form = PageForm()
    if not form.validate_on_submit():
        return _refused(form, survey)
    page = add_page(survey, (form.title.data or "").strip())
    db.session.flush()
    audit.record("page.create", audit_target(survey), page=page.title)
    db.session.commit()
    return _back(survey, f"page-{page.id}")


@bp.post("/surveys/<int:survey_id>/pages/<int:page_id>")
@permission_required("design")
def edit_page(survey_id: int, page_id: int):
    survey = survey_or_404(survey_id)
    page = _page(survey, page_id)
    form = PageForm()
    if not form.validate_on_submit():
        return _refused(form, survey, f"page-{page_id}")
    try:
        change = update_page(survey, page, (form.title.data or "").strip(),
                             condition_from_text(form.display_condition.data))
    except EditRefused as error:
        db.session.rollback()
        flash(f"The page was not changed: {error}", "error")
        return _back(survey, f"page-{page_id}")
    if change.wording or change.other:
        audit.record("page.update", audit_target(survey), page=page.title, **change.wording, **change.other)
        db.session.commit()
    return _back(survey, f"page-{page.id}")


@bp.post("/surveys/<int:survey_id>/pages/<int:page_id>/delete")
@permission_required("design")
def remove_page(survey_id: int, page_id: int):
    survey = survey_or_404(survey_id)
    page = _page(survey, page_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not confirmation.confirmed():
        return confirmation.ask(f"Delete the page “{page.title or 'untitled'}”?",
                                ["The page will be deleted (it has no questions)."
                                 + (" Its display condition goes with it." if page.display_condition else "")],
                                "Delete the page", url_for("staff.survey", survey_id=survey.id))
    try:
        delete_page(survey, page)
    except EditRefused as error:
        flash(str(error), "error")
        return _back(survey, f"page-{page_id}")
    audit.record("page.delete", audit_target(survey), page=page.title)
    db.session.commit()
    return _back(survey)


# --- Questions -------------------------------------------------------------------------------

def _question_page(survey, form, question=None, error=None, status=200):
    return render_template("staff/question.html", survey=survey, form=form, question=question, error=error,
                           answered=bool(question and response_count(survey)),
                           logic_questions=logic_questions(survey, question.code if question else "")), status


@bp.route("/surveys/<int:survey_id>/questions/new", methods=["GET", "POST"])
@permission_required("design")
def new_question(survey_id: int):
    survey = survey_or_404(survey_id)
    if not survey.pages:
        add_page(survey, "Page 1")
        db.session.flush()
    form = QuestionForm()
    form.page_id.choices = _page_choices(survey)
    if request.method == "GET":
        form.type.data = request.args.get("type", "single_choice")
        form.page_id.data = request.args.get("page_id", survey.pages[-1].id, type=int)
        form.missing.data = ["dont_know"]
        return _question_page(survey, form)
    if not form.validate_on_submit():
        return _question_page(survey, form, status=422)
    try:
        item = item_from_form(form, survey=survey)
        question = add_question(survey, _page(survey, form.page_id.data), item)
        db.session.flush()
    except EditRefused as error:
        db.session.rollback()
        return _question_page(survey_or_404(survey_id), form, error=str(error), status=422)
    audit.record("question.create", audit_target(survey), question=question.code, type=question.type)
    db.session.commit()
    return _back(survey, f"question-{question.id}")


@bp.route("/surveys/<int:survey_id>/questions/<int:question_id>", methods=["GET", "POST"])
@permission_required("design")
def edit_question(survey_id: int, question_id: int):
    survey = survey_or_404(survey_id)
    question = _question(survey, question_id)
    if question.parent is not None:  # a matrix statement is edited with its matrix
        return redirect(url_for(".edit_question", survey_id=survey_id, question_id=question.parent.id))
    form = QuestionForm()
    form.page_id.choices = _page_choices(survey)
    if request.method == "GET":
        fill_question_form(form, question)
        return _question_page(survey, form, question)
    if not form.validate_on_submit():
        return _question_page(survey, form, question, status=422)
    try:
        item = item_from_form(form, [(o.code, o.label) for o in question.options], survey=survey)
        change = update_question(survey, question, item, _page(survey, form.page_id.data))
        db.session.flush()
    except EditRefused as error:
        db.session.rollback()
        survey = survey_or_404(survey_id)
        return _question_page(survey, form, _question(survey, question_id), error=str(error), status=422)
    if change.wording or change.other:
        audit.record("question.update", audit_target(survey), question=question.code,
                     wording=change.wording or None, changes=change.other or None)
        db.session.commit()
        flash("Saved the question.", "info")
    return _back(survey, f"question-{question.id}")


@bp.post("/surveys/<int:survey_id>/questions/<int:question_id>/delete")
@permission_required("design")
def remove_question(survey_id: int, question_id: int):
    survey = survey_or_404(survey_id)
    question = _question(survey, question_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not confirmation.confirmed():
        lost = [f"The question “{question.text}” ({question.code}) will be deleted"
                + (f", with its {len(question.options)} answer options" if question.options else "")
                + ", its translations and its display condition. This cannot be undone."]
        if any(q.display_condition and question.code in json.dumps(q.display_condition)
               for q in survey.questions if q.id != question.id):
            lost.append("Another question's display condition refers to it: that condition must be "
                        "changed first, or the deletion will be refused.")
        return confirmation.ask(f"Delete the question “{question.code}”?", lost, "Delete the question",
                                url_for("staff.survey", survey_id=survey.id) + f"#question-{question.id}")
    try:
        delete_question(survey, question)
    except EditRefused as error:
        db.session.rollback()
        flash(str(error), "error")
        return _back(survey_or_404(survey_id), f"question-{question_id}")
    audit.record("question.delete", audit_target(survey), question=question.code)
    db.session.commit()
    return _back(survey)


@bp.post("/surveys/<int:survey_id>/questions/<int:question_id>/move")
@permission_required("design")
def move(survey_id: int, question_id: int):
    survey = survey_or_404(survey_id)
    question = _question(survey, question_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    direction = -1 if request.args.get("direction") == "up" else 1
    try:
        move_question(survey, question, direction)
    except EditRefused as error:
        db.session.rollback()
        flash(f"Not moved: {error}", "error")
        return _back(survey_or_404(survey_id), f"question-{question_id}")
    audit.record("question.move", audit_target(survey), question=question.code,
                 direction="up" if direction < 0 else "down")
    db.session.commit()
    return _back(survey, f"question-{question.id}")


# --- Question bank ---------------------------------------------------------------------------

@bp.route("/surveys/<int:survey_id>/bank", methods=["GET", "POST"])
@permission_required("design")
def question_bank(survey_id: int):
    survey = survey_or_404(survey_id)
    if not survey.pages:
        add_page(survey, "Page 1")
        db.session.flush()
    form = BankAddForm()
    form.page_id.choices = _page_choices(survey)
    staff_items = _staff_bank_items()
    error = None
    if form.validate_on_submit():
        chosen = [bank.item_by_code(code, staff_items) for code in form.codes.data or []]
        chosen = [item for item in chosen if item is not None]
        if not chosen:
            error = "Choose at least one question to add."
        else:
            page = _page(survey, form.page_id.data)
            added = []
            try:
                started = [lang for lang in translation.PHRASEBOOKS
                           if translation.coverage(survey, lang).started]
                for item in chosen:
                    item["code"] = free_code(survey, item["code"])
                    added.append(add_question(survey, page, item).code)
                db.session.flush()
                for lang in started:  # keep a translation in progress complete for bank wording
                    translation.prefill(survey, lang)
            except EditRefused as problem:
                db.session.rollback()
                error = str(problem)
            else:
                audit.record("question.add_from_bank", audit_target(survey), questions=added)
                db.session.commit()
                flash(f"Added {len(added)} question(s) from the bank.", "info")
                return _back(survey, f"page-{page.id}")
    elif request.method == "POST":
        error = "The form had expired. Please choose again."
    in_survey = {q.code for q in survey.questions}
    return render_template("staff/bank.html", survey=survey, form=form, groups=bank.by_construct(staff_items),
                           constructs=bank.CONSTRUCTS, in_survey=in_survey, error=error), (422 if error else 200)


@bp.route("/bank/new", methods=["GET", "POST"])
@permission_required("design")
def new_bank_item():
    form = QuestionForm()
    form.page_id.choices = choices([(0, "-")])
    error = None
    if request.method == "GET":
        form.type.data, form.missing.data = "scale", ["dont_know"]
    elif form.validate_on_submit():
        try:
            item = item_from_form(form)
            if not item.get("construct"):
                raise EditRefused("construct: choose the construct this item measures")
            taken = {i["code"] for i in bank.built_in_items() + _staff_bank_items()}
            if item["code"] in taken:
                raise EditRefused(f"code: the bank already has an item '{item['code']}'")
            validate_definition({"slug": "bank-check", "title": "check", "pages": [{"questions": [item]}]})
        except EditRefused as problem:
            db.session.rollback()
            error = str(problem)
        else:
            definition = {k: v for k, v in item.items() if k != "display_condition"}
            db.session.add(BankItem(code=item["code"], definition=definition, construct=item["construct"],
                                    created_by_id=current_user.id))
            audit.record("bank.create", f"bank {item['code']}", construct=item["construct"])
            db.session.commit()
            flash(f"Added '{item['text']}' to the question bank.", "info")
            return redirect(url_for(".dashboard"), code=303)
    else:
        error = "; ".join(f"{form[name].label.text}: {errors[0]}" for name, errors in form.errors.items())
    return render_template("staff/question.html", survey=None, form=form, question=None, error=error,
                           answered=False, bank_item=True), (422 if error else 200)


# --- Preview ---------------------------------------------------------------------------------

@bp.route("/surveys/<int:survey_id>/preview", methods=["GET", "POST"])
@staff_required
def preview(survey_id: int):
    """The resident's page exactly, for any status; submitting checks the answers but stores nothing.
    ``?page=N`` shows one page as residents get them, ``?lang=es`` the survey in a language it is
    translated into, ``?width=phone`` the page at a phone's width (375 px)."""
    from ..forms.response import page_questions

    survey = survey_or_404(survey_id)
    languages = translation.available_languages(survey, LANGUAGES)
    if request.args.get("lang") in languages:
        request.preview_language = request.args["lang"]  # i18n: this page in the resident's language
    pages = list(survey.pages)
    number = request.args.get("page", type=int)
    shown = [pages[number - 1]] if number and 1 <= number <= len(pages) else pages
    questions = None if shown == pages else page_questions(shown[0])
    hidden = hidden_questions(survey, request.form) if request.method == "POST" else frozenset()
    form = build_response_form(survey, hidden, questions)()
    checked = False
    status = 200
    if request.method == "POST":
        checked = form.validate()
        status = 200 if checked else 422
    token_expired = bool(form.csrf_token.errors)
    options = {key: request.args[key] for key in ("page", "lang", "width") if request.args.get(key)}

    def preview_url(**changes) -> str:
        """This preview with some of its options changed (None: left out)."""
        wanted = {key: value for key, value in {**options, **changes}.items() if value is not None}
        return url_for(".preview", survey_id=survey.id, **wanted)

    return render_template("respond/survey.html", survey=survey, form=form, field_name=field_name,
                           token_expired=token_expired, preview=True, preview_ok=checked,
                           shown_pages=shown, preview_page=number if questions is not None else None,
                           preview_options=options, preview_languages=languages,
                           phone_width=request.args.get("width") == "phone", preview_url=preview_url,
                           action=url_for(".preview", survey_id=survey.id, **options)), status
