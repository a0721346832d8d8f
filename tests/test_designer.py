"""The questionnaire designer: every question type, display logic, refused edits, JSON, waves, bank."""
import html
import io
import json

import pytest
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Answer, AuditEntry, PopulationMargin, Question, Response, Survey
from survey_app.questionnaire.definition import definition_from_survey, survey_from_definition

from .factories import add_response, make_survey
from .staff_helpers import make_user, post, question_form, sign_in

EVERY_TYPE = [
    {"code": "district", "type": "dropdown", "text": "Which district?", "required": True,
     "construct": "demographics", "options": [{"code": 1, "label": "North"}, {"code": 2, "label": "South"}]},
    {"code": "contact", "type": "single_choice", "text": "Any contact?", "required": True,
     "options": [{"code": 1, "label": "Yes"}, {"code": 2, "label": "No"}]},
    {"code": "kinds", "type": "multiple_choice", "text": "What kind?", "config": {"other": True},
     "display_condition": {"question": "contact", "in": [1]},
     "options": [{"code": 1, "label": "Called"}, {"code": 2, "label": "Stopped"},
                 {"code": 3, "label": "Other (please specify)"}]},
    {"code": "satisfied", "type": "scale", "text": "How satisfied were you?", "required": True,
     "config": {"scale": "satisfaction", "missing": ["dont_know", "prefer_not_to_say"]},
     "display_condition": {"question": "contact", "in": [1]}},
    {"code": "trust", "type": "scale", "text": "I trust the police.", "required": True,
     "construct": "overall_trust", "config": {"scale": "agreement", "missing": ["dont_know"]}},
    {"code": "years", "type": "numeric", "text": "Years here?", "config": {"min": 0, "max": 100, "decimals": 0}},
    {"code": "short", "type": "text", "text": "One word", "config": {"max_length": 10, "multiline": False}},
    {"code": "long", "type": "text", "text": "Tell us more", "config": {"max_length": 50, "multiline": True}},
]


def every_type_survey(status="open"):
    survey = survey_from_definition({"slug": "types", "title": "Every type", "pages": [
        {"title": "One", "questions": EVERY_TYPE[:4]}, {"title": "Two", "questions": EVERY_TYPE[4:]}]})
    survey.status = status
    db.session.add(survey)
    db.session.commit()
    return survey


def option(survey, code, option_code):
    question = next(q for q in survey.questions if q.code == code)
    return str(next(o.id for o in question.options if o.code == option_code))


def resident_page(client, survey) -> str:
    """The first page a resident sees after pressing Start."""
    from .factories import start
    assert start(client, survey).status_code == 303
    return client.get(f"/s/{survey.slug}/page/1").get_data(as_text=True)


def resident_submit(client, survey, data):
    """Answer the survey page by page like a browser (see factories.submit)."""
    from .factories import submit
    return submit(client, survey, {k: v for k, v in data.items() if k != "csrf_token"})


def stored(survey):
    rows = db.session.execute(select(Question.code, Answer.value, Answer.number, Answer.text)
                              .join(Answer, Answer.question_id == Question.id)
                              .where(Question.survey_id == survey.id)).all()
    return {code: (value, number, text) for code, value, number, text in rows}


def test_every_question_type_renders_for_residents(client, app):
    survey = every_type_survey()
    page = resident_page(client, survey)
    assert '<select name="q_district" id="q_district-first"' in page
    assert page.count('type="radio" name="q_contact"') == 2
    assert page.count('type="checkbox" name="q_kinds"') == 3 and 'name="q_kinds_other"' in page
    assert "Very satisfied" in page and "Prefer not to say" in page
    # Display conditions travel to the browser as data, for static/js/logic.js.
    assert 'data-question="kinds"' in page
    assert 'data-condition="{"in": [1], "question": "contact"}"' in html.unescape(page)
    assert 'src="/static/js/logic.js"' in page
    from .factories import post_page
    assert post_page(client, survey, 1, answers(survey)).status_code == 303
    page = client.get("/s/types/page/2").get_data(as_text=True)
    assert 'inputmode="numeric"' in page
    assert '<input type="text" name="q_short"' in page and '<textarea name="q_long"' in page
    # Earlier pages' answers travel too, as codes, for conditions that depend on them.
    assert '"contact": 1' in html.unescape(page) and '"district": 1' in html.unescape(page)


def answers(survey, **changes):
    data = {"q_district": option(survey, "district", 1), "q_contact": option(survey, "contact", 1),
            "q_kinds": [option(survey, "kinds", 2)], "q_satisfied": option(survey, "satisfied", 4),
            "q_trust": option(survey, "trust", 5), "q_years": "12", "q_short": "fine", "q_long": "All good."}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize("changes, field, message", [
    ({"q_district": None}, "q_district", "Please answer this question."),
    ({"q_kinds": ["999"]}, "q_kinds", "Please choose one of the answers listed."),
    ({"q_satisfied": None}, "q_satisfied", "Please answer this question."),
    ({"q_years": "3.5"}, "q_years", "Please enter a whole number from 0 to 100."),
    ({"q_short": "x" * 11}, "q_short", "Please shorten your answer to 10 characters (it is 11 now)."),
    ({"q_long": "x" * 51}, "q_long", "Please shorten your answer to 50 characters (it is 51 now)."),
    ({"q_kinds_other": "y" * 201}, "q_kinds_other", "Please shorten your answer to 200 characters"),
])
def test_every_question_type_is_validated_on_the_server(client, app, changes, field, message):
    survey = every_type_survey()
    data = answers(survey, **changes)
    response = resident_submit(client, survey, data)
    assert response.status_code == 422
    assert message in html.unescape(response.get_data(as_text=True))
    assert db.session.scalar(select(func.count()).select_from(Response)) == 0


def test_valid_answers_of_every_type_are_stored(client, app):
    survey = every_type_survey()
    data = answers(survey, q_kinds_other="A neighbour's complaint")
    assert resident_submit(client, survey, data).status_code == 303
    got = stored(survey)
    # Writing under "Other" chooses it: bits of codes 2 and 3.
    assert got["kinds"] == (0b110, None, "A neighbour's complaint")
    assert got["satisfied"][0] == 4 and got["years"][1] == 12.0 and got["short"][2] == "fine"


def test_hidden_question_is_neither_required_nor_stored(client, app):
    survey = every_type_survey()
    # No contact: "kinds" and "satisfied" are hidden. Values posted for them are ignored, and the
    # required "satisfied" is not required.
    data = answers(survey, q_contact=option(survey, "contact", 2), q_satisfied=None,
                   q_kinds=[option(survey, "kinds", 1)], q_kinds_other="should not be kept")
    assert resident_submit(client, survey, data).status_code == 303
    got = stored(survey)
    assert "kinds" not in got and "satisfied" not in got and got["contact"][0] == 2


def test_hidden_question_garbage_does_not_block_the_resident(client, app):
    survey = every_type_survey()
    data = answers(survey, q_contact=option(survey, "contact", 2), q_satisfied="not-an-id", q_kinds=["999"])
    assert resident_submit(client, survey, data).status_code == 303
    assert "satisfied" not in stored(survey)


def test_page_condition_hides_a_whole_page(client, app):
    definition = {"slug": "paged", "title": "Paged", "pages": [
        {"title": "A", "questions": [EVERY_TYPE[1]]},
        {"title": "B", "display_condition": {"question": "contact", "in": [1]},
         "questions": [dict(EVERY_TYPE[4], required=True)]}]}
    survey = survey_from_definition(definition)
    survey.status = "open"
    db.session.add(survey)
    db.session.commit()
    response = resident_submit(client, survey, {"q_contact": option(survey, "contact", 2),
                                                "q_trust": option(survey, "trust", 1)})
    # Page B is skipped: page A's "Next" submits, and nothing posted for B is kept.
    assert response.status_code == 303 and response.headers["Location"].endswith("/thanks")
    assert "trust" not in stored(survey)
    other = app.test_client()
    response = resident_submit(other, survey, {"q_contact": option(survey, "contact", 1)})
    assert response.status_code == 422  # page B is shown, and its question is required
    assert "Page 2 of 2" in response.get_data(as_text=True)


@pytest.fixture
def editor(client, app):
    user = make_user("editor")
    sign_in(client, user.email)
    return user


def test_editor_builds_a_survey_with_display_logic_and_every_step_is_audited(client, app, editor):
    response = post(client, "/staff/surveys/new", {"title": "Pilot", "slug": "pilot"})
    survey = db.session.scalar(select(Survey).where(Survey.slug == "pilot"))
    assert response.status_code == 303 and survey.status == "draft"
    page_id = survey.pages[0].id
    base = f"/staff/surveys/{survey.id}/questions/new"
    assert post(client, base, question_form(code="contact", text="Any contact?", page_id=page_id,
                                            options="Yes\nNo", required="y"),
                token_page=base).status_code == 303
    assert post(client, base, question_form(code="how", type="scale", text="Satisfied?", page_id=page_id,
                                            scale="satisfaction", missing=["dont_know", "prefer_not_to_say"],
                                            display_condition='{"question": "contact", "in": [1]}'),
                token_page=base).status_code == 303
    # A condition on a later or unknown question is refused with the field named.
    bad = post(client, base, question_form(code="bad", text="Bad", page_id=page_id,
                                           display_condition='{"question": "later", "in": [1]}'), token_page=base)
    assert bad.status_code == 422
    assert "'later' is not a question before this one" in html.unescape(bad.get_data(as_text=True))
    broken = post(client, base, question_form(code="bad", text="Bad", page_id=page_id,
                                              display_condition='{"question": '), token_page=base)
    assert broken.status_code == 422 and "not valid JSON" in broken.get_data(as_text=True)
    db.session.expire_all()
    survey = db.session.get(Survey, survey.id)
    assert [q.code for q in survey.questions] == ["contact", "how"]
    how = survey.questions[1]
    assert [o.code for o in how.options] == [1, 2, 3, 4, 5, -1, -2]
    assert how.display_condition == {"question": "contact", "in": [1]}
    # Preview is the resident's page, and stores nothing.
    preview = client.get(f"/staff/surveys/{survey.id}/preview").get_data(as_text=True)
    assert "This is what residents see" in preview and "Satisfied?" in preview
    status = post(client, f"/staff/surveys/{survey.id}/status", {"status": "open"})
    assert status.status_code == 303
    db.session.refresh(survey)
    assert survey.status == "open"
    actions = [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["staff.login", "survey.create", "question.create", "question.create", "survey.status"]
    assert all(e.user_email == editor.email for e in db.session.scalars(select(AuditEntry)))


def test_destructive_edits_are_refused_once_there_are_answers(client, app, editor):
    survey = make_survey()
    add_response(survey, trust=4, district=1)
    trust = next(q for q in survey.questions if q.code == "trust")
    district = next(q for q in survey.questions if q.code == "district")
    path = f"/staff/surveys/{survey.id}/questions/{trust.id}"
    keep = dict(code="trust", type="scale", text="I trust the police.", scale="agreement", missing=["dont_know"],
                page_id=trust.page_id, required="y")
    for changes, reason in [({"type": "single_choice", "options": "Yes\nNo"}, "its type cannot change"),
                            ({"scale": "satisfaction"}, "its scale cannot change"),
                            ({"missing": ["dont_know", "prefer_not_to_say"]}, "options cannot change"),
                            ({"code": "trust2"}, "variable name cannot change")]:
        response = post(client, path, question_form(**{**keep, **changes}), token_page=path)
        assert response.status_code == 422, changes
        assert reason in html.unescape(response.get_data(as_text=True)), changes
    district_path = f"/staff/surveys/{survey.id}/questions/{district.id}"
    removed = post(client, district_path, question_form(code="district", type="dropdown", text="District?",
                                                        options="1 | North\n2 | South", page_id=district.page_id),
                   token_page=district_path)
    assert removed.status_code == 422 and "options cannot be removed ('East')" in html.unescape(
        removed.get_data(as_text=True))
    delete = post(client, f"/staff/surveys/{survey.id}/questions/{trust.id}/delete", {"confirmed": "yes"})
    assert delete.status_code == 303
    db.session.expire_all()
    assert db.session.get(Question, trust.id) is not None  # refused, with a message
    # A wording fix is allowed, and recorded with the text before and after.
    fixed = post(client, district_path, question_form(code="district", type="dropdown",
                                                      text="Which police district do you live in?",
                                                      options="1 | North\n2 | South side\n3 | East",
                                                      page_id=district.page_id), token_page=district_path)
    assert fixed.status_code == 303
    db.session.expire_all()
    district = db.session.get(Question, district.id)
    assert district.text == "Which police district do you live in?"
    assert [o.label for o in district.options] == ["North", "South side", "East"]
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "question.update")).one()
    assert entry.details["wording"] == {"text": ["District?", "Which police district do you live in?"],
                                        "options": [["South", "South side"]]}


def test_json_export_and_import_round_trip(client, app, editor):
    survey = every_type_survey(status="draft")
    exported = client.get(f"/staff/surveys/{survey.id}/export.json")
    assert exported.mimetype == "application/json"
    definition = json.loads(exported.get_data(as_text=True))
    assert definition["format"] == 1
    definition["slug"] = "types-copy"
    response = post(client, "/staff/surveys/import",
                    {"file": (io.BytesIO(json.dumps(definition).encode()), "types.json")},
                    token_page="/staff/surveys/import", content_type="multipart/form-data")
    assert response.status_code == 303
    copy = db.session.scalar(select(Survey).where(Survey.slug == "types-copy"))
    original = definition_from_survey(survey)
    again = definition_from_survey(copy)
    assert {**again, "slug": original["slug"]} == original


@pytest.mark.parametrize("content, message", [
    (b"{not json", "not valid JSON"),
    (json.dumps({"slug": "x", "title": "X", "pages": [{"questions": [{"code": "a", "type": "scale",
                                                                      "text": "A", "config": {"scale": "odd"}}]}]}
                ).encode(), "pages[0].questions[0].config.scale: must be one of agreement, satisfaction"),
    (json.dumps({"slug": "small", "title": "X", "pages": [{"questions": [{"code": "a", "type": "text",
                                                                          "text": "A"}]}]}).encode(),
     "already exists"),
])
def test_invalid_import_names_the_field_and_imports_nothing(client, app, editor, content, message):
    make_survey()
    before = db.session.scalar(select(func.count()).select_from(Survey))
    response = post(client, "/staff/surveys/import", {"file": (io.BytesIO(content), "bad.json")},
                    token_page="/staff/surveys/import", content_type="multipart/form-data")
    assert response.status_code == 422
    assert message in html.unescape(response.get_data(as_text=True))
    assert db.session.scalar(select(func.count()).select_from(Survey)) == before


def test_next_wave_copies_the_survey_into_its_series(client, app, editor):
    from survey_app import written_coding
    from survey_app.models import Question

    survey = make_survey()
    db.session.add(PopulationMargin(survey_id=survey.id, variable="district", category_code=1, population=10.0,
                                    source="Census"))
    db.session.commit()
    comment = next(q for q in survey.questions if q.code == "comment")
    written_coding.add_theme(comment, "Speeding", {"es": "Velocidad"})
    written_coding.add_theme(comment, "Lighting")
    response = post(client, f"/staff/surveys/{survey.id}/next-wave", {"slug": "small-wave-2"})
    assert response.status_code == 303
    wave2 = db.session.scalar(select(Survey).where(Survey.slug == "small-wave-2"))
    db.session.refresh(survey)
    assert wave2.status == "draft" and wave2.wave == 2 and wave2.series_id == survey.series_id is not None
    assert {**definition_from_survey(wave2), "slug": "small"} == definition_from_survey(survey)
    margins = db.session.scalars(select(PopulationMargin).where(PopulationMargin.survey_id == wave2.id)).all()
    assert [(m.variable, m.category_code, m.population, m.source) for m in margins] == [("district", 1, 10.0, "Census")]
    copied = db.session.scalar(select(Question).where(Question.survey_id == wave2.id, Question.code == "comment"))
    assert [(t.number, t.label, t.translations) for t in written_coding.themes(copied)] == [
        (1, "Speeding", {"es": "Velocidad"}), (2, "Lighting", {})]  # the same codebook, to compare waves
    taken = post(client, f"/staff/surveys/{survey.id}/next-wave", {"slug": "small-wave-2"})
    assert taken.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Survey)) == 2


def test_template_and_question_bank(client, app, editor):
    asked = client.get("/staff/").get_data(as_text=True)  # the form suggests a title and an address
    assert 'value="Community Trust in Policing 20' in asked and 'value="community-trust-20' in asked
    assert post(client, "/staff/surveys/template", {"title": "Community Trust in Policing 2027",
                                                    "slug": "community-trust"}).status_code == 303
    template = db.session.scalar(select(Survey).where(Survey.slug == "community-trust"))
    assert template.title == "Community Trust in Policing 2027" and len(template.questions) == 21
    assert (template.translations or {}).get("es", {}).get("title") == "Confianza de la comunidad en la policía 2027"
    # The same title again: refused in words, what was typed kept, nothing created.
    again = post(client, "/staff/surveys/template", {"title": "community trust in policing 2027", "slug": "trust-again"})
    text = html.unescape(again.get_data(as_text=True))
    assert again.status_code == 422 and "a survey called “community trust in policing 2027” already exists" in text
    assert 'value="trust-again"' in text
    assert db.session.scalar(select(func.count()).select_from(Survey)) == 1
    post(client, "/staff/surveys/new", {"title": "Short", "slug": "short"})
    survey = db.session.scalar(select(Survey).where(Survey.slug == "short"))
    bank_path = f"/staff/surveys/{survey.id}/bank"
    page = client.get(bank_path).get_data(as_text=True)
    assert "Fair and respectful treatment" in page and "reverse-coded" in page
    response = post(client, bank_path, {"codes": ["trust_overall", "equal_treatment", "safe_night", "district"],
                                        "page_id": survey.pages[0].id}, token_page=bank_path)
    assert response.status_code == 303
    db.session.expire_all()
    survey = db.session.get(Survey, survey.id)
    by_code = {q.code: q for q in survey.questions}
    assert list(by_code) == ["trust_overall", "equal_treatment", "safe_night", "district"]
    assert by_code["equal_treatment"].reverse_coded and by_code["equal_treatment"].construct == "fair_treatment"
    assert by_code["safe_night"].config["ordered"] == "first_high"
    # Staff add their own item to the bank; it is offered next to the built-in ones.
    own = post(client, "/staff/bank/new", question_form(code="feel_heard", type="scale", text="I feel heard.",
                                                        construct="fair_treatment", missing=["dont_know"]),
               token_page="/staff/bank/new")
    assert own.status_code == 303
    assert "I feel heard." in client.get(bank_path).get_data(as_text=True)
    no_construct = post(client, "/staff/bank/new", question_form(code="other_item", type="scale", text="Hmm"),
                        token_page="/staff/bank/new")
    assert no_construct.status_code == 422 and "choose the construct" in no_construct.get_data(as_text=True)


MATRIX_SURVEY = {"slug": "grid", "title": "Grid", "pages": [{"title": "Views", "questions": [
    {"code": "contact", "type": "single_choice", "text": "Any contact?", "required": True,
     "options": [{"code": 1, "label": "Yes"}, {"code": 2, "label": "No"}]},
    {"code": "officers", "type": "matrix", "text": "About the officers you dealt with:", "required": True,
     "construct": "recent_contact", "config": {"scale": "agreement", "missing": ["dont_know"]},
     "display_condition": {"question": "contact", "in": [1]},
     "rows": [{"code": "off_respect", "text": "They treated me with respect."},
              {"code": "off_listen", "text": "They listened to me."},
              {"code": "off_rude", "text": "They were rude.", "reverse_coded": True}]},
    {"code": "after", "type": "text", "text": "Anything else?",
     "display_condition": {"question": "off_respect", "in": [5]}},
]}]}


def matrix_survey(status="open"):
    survey = survey_from_definition(MATRIX_SURVEY)
    survey.status = status
    db.session.add(survey)
    db.session.commit()
    return survey


def test_matrix_definition_round_trips_and_rows_are_scale_questions(app):
    survey = matrix_survey()
    written = definition_from_survey(survey)
    matrix = written["pages"][0]["questions"][1]
    assert matrix["rows"] == MATRIX_SURVEY["pages"][0]["questions"][1]["rows"]
    assert matrix["config"] == {"scale": "agreement", "missing": ["dont_know"]}
    assert [q["code"] for q in written["pages"][0]["questions"]] == ["contact", "officers", "after"]
    again = survey_from_definition({**written, "slug": "grid-2"})
    assert {**definition_from_survey(again), "slug": "grid"} == written
    rows = [q for q in survey.questions if q.parent is not None]
    assert [(q.code, q.type, q.required, q.construct, q.reverse_coded) for q in rows] == [
        ("off_respect", "scale", True, "recent_contact", False), ("off_listen", "scale", True, "recent_contact", False),
        ("off_rude", "scale", True, "recent_contact", True)]
    # The analysis sees the statements as scale items and no matrix question.
    from survey_app.analysis.frame import load_codebook
    with db.engine.connect() as connection:
        codebook = load_codebook(connection, "grid")
    assert [q.code for q in codebook.questions] == ["contact", "off_respect", "off_listen", "off_rude", "after"]


def test_matrix_renders_a_fieldset_per_statement_and_validates_each(client, app):
    survey = matrix_survey()
    page = html.unescape(resident_page(client, survey))
    assert '<legend>About the officers you dealt with: <span class="required">(required)</span></legend>' in page
    for statement in ("They treated me with respect.", "They listened to me.", "They were rude."):
        assert f"<legend>{statement}" in page
    data = {"q_contact": option(survey, "contact", 1),
            "q_off_respect": option(survey, "off_respect", 5), "q_off_listen": option(survey, "off_listen", 4)}
    missing = resident_submit(client, survey, data)
    assert missing.status_code == 422 and 'id="q_off_rude-error"' in missing.get_data(as_text=True)
    data.update(q_off_rude=option(survey, "off_rude", 1),
                q_after="Thanks")
    assert resident_submit(client, survey, data).status_code == 303
    got = stored(survey)
    assert (got["off_respect"][0], got["off_listen"][0], got["off_rude"][0], got["after"][2]) == (5, 4, 1, "Thanks")


def test_hidden_matrix_hides_every_statement(client, app):
    survey = matrix_survey()
    data = {"q_contact": option(survey, "contact", 2),
            "q_off_respect": option(survey, "off_respect", 5), "q_after": "hidden too"}
    assert resident_submit(client, survey, data).status_code == 303  # the required statements are not required
    assert set(stored(survey)) == {"contact"}


def test_designer_builds_and_guards_a_matrix(client, app, editor):
    survey = matrix_survey(status="draft")
    base = f"/staff/surveys/{survey.id}/questions/new"
    response = post(client, base, question_form(code="voice", type="matrix", text="How far do you agree?",
                                                page_id=survey.pages[0].id, missing=["dont_know"],
                                                construct="fair_treatment",
                                                options="The police listen.\nv_fair | They are fair. | reversed"),
                    token_page=base)
    assert response.status_code == 303
    db.session.expire_all()
    survey = db.session.get(Survey, survey.id)
    voice = next(q for q in survey.questions if q.code == "voice")
    assert [(r.code, r.text, r.reverse_coded, r.construct) for r in voice.rows] == [
        ("voice_1", "The police listen.", False, "fair_treatment"), ("v_fair", "They are fair.", True, "fair_treatment")]
    assert [q.code for q in sorted(survey.questions, key=lambda q: q.position)][-3:] == ["voice", "voice_1", "v_fair"]
    # With answers, a statement cannot be removed; its wording can be fixed.
    survey.status = "open"
    db.session.commit()
    add_response(survey, contact=1, off_respect=4, off_listen=4, off_rude=2)
    officers = next(q for q in survey.questions if q.code == "officers")
    path = f"/staff/surveys/{survey.id}/questions/{officers.id}"
    keep = dict(code="officers", type="matrix", text="About the officers you dealt with:", required="y",
                construct="recent_contact", missing=["dont_know"], page_id=officers.page_id,
                display_condition='{"question": "contact", "in": [1]}')
    refused = post(client, path, question_form(**keep, options="off_respect | They treated me with respect.\n"
                                                                "off_listen | They listened to me."),
                   token_page=path)
    assert refused.status_code == 422
    assert "statements with answers cannot be removed ('They were rude.')" in html.unescape(
        refused.get_data(as_text=True))
    fixed = post(client, path, question_form(**keep, options="off_respect | They treated me with respect.\n"
                                                              "off_listen | They listened to what I said.\n"
                                                              "off_rude | They were rude. | reversed"),
                 token_page=path)
    assert fixed.status_code == 303
    db.session.expire_all()
    listen = db.session.scalar(select(Question).where(Question.code == "off_listen", Question.survey_id == survey.id))
    assert listen.text == "They listened to what I said."
    # A statement's own edit link leads to its matrix.
    row_page = client.get(f"/staff/surveys/{survey.id}/questions/{listen.id}")
    assert row_page.status_code == 302 and row_page.headers["Location"].endswith(f"/questions/{officers.id}")


def test_refused_staff_forms_say_which_field_and_what_to_do(client, app):
    """A page title over its limit, a status not offered, a form whose token expired: nothing
    changes and the page says what was wrong and what to do (never a bare "Bad request")."""
    survey = make_survey()
    status = survey.status
    sign_in(client, make_user("editor").email)
    page = survey.pages[0]
    reply = post(client, f"/staff/surveys/{survey.id}/pages/{page.id}", {"title": "x" * 201, "display_condition": ""})
    assert reply.status_code == 303
    shown = html.unescape(client.get(reply.headers["Location"]).get_data(as_text=True))
    assert "Nothing was changed. Page title: Field cannot be longer than 200 characters. Correct it and try again." in shown
    db.session.expire_all()
    assert db.session.get(type(page), page.id).title == page.title
    reply = post(client, f"/staff/surveys/{survey.id}/status", {"status": "published"})
    assert reply.status_code == 303
    assert "Nothing was changed. Status: Not a valid choice." in html.unescape(
        client.get(reply.headers["Location"]).get_data(as_text=True))
    assert db.session.get(Survey, survey.id).status == status
    expired = client.post(f"/staff/surveys/{survey.id}/status", data={"status": "open", "csrf_token": "old"})
    assert expired.status_code == 400
    text = html.unescape(expired.get_data(as_text=True))
    assert "This form had expired" in text and "Nothing was changed. Go back, reload the page" in text
    assert 'href="/staff/"' in text  # the way back is to the staff pages, not the residents' list
