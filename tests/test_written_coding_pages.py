"""The staff pages of coding what residents wrote: masks seen, undone and added; the codebook
(removal asks first, saying what is lost); coding one at a time, again, and in bulk from a
search; the blind second coding and the agreement page. Only roles allowed to read the words."""
from __future__ import annotations

import html
import re

from sqlalchemy import select

from survey_app import written_coding
from survey_app.extensions import db
from survey_app.models import AuditEntry, Coding, Question, WrittenMask

from .factories import add_response, make_survey
from .staff_helpers import make_user, post, sign_in

ANSWERS = ["Officer Ramirez was rude, badge #4521", "speeding cars on Elm Street", "cars speeding at night",
           "no street lights", "drug dealing by the park", "speeding trucks, call me 312-555-0188"]


def text(reply) -> str:
    return html.unescape(reply.get_data(as_text=True))


def setup(app):
    survey = make_survey()
    question = db.session.scalar(select(Question).where(Question.survey_id == survey.id, Question.code == "comment"))
    ids = [add_response(survey, trust=3, district=1 + i % 3, comment=words) for i, words in enumerate(ANSWERS)]
    return survey, question, ids


def base(survey) -> str:
    return f"/staff/surveys/{survey.id}/written/comment"


def test_reading_shows_answers_masked_and_the_masks_can_be_undone_and_added(client, app):
    survey, question, ids = setup(app)
    sign_in(client, make_user("editor").email)
    page = text(client.get(base(survey)))
    assert "Officer [name] was rude, badge [badge]" in page and "Ramirez" not in page and "4521" not in page
    assert "speeding trucks, call me [phone]" in page and "What is masked (2)" in page
    masks = f"{base(survey)}/{ids[0]}/masks"
    page = text(client.get(masks))
    assert "<title>What is masked – Small test survey – Community surveys</title>" in page
    # As written, on the staff page only, each masked word marked with its kind.
    assert "Officer Ramirez [name] was rude, badge #4521 [badge]" in re.sub(r"<[^>]+>", "", page)
    assert "“Ramirez”, masked as a name (found by the rules)" in page
    assert '<option value="email">an email address</option>' in page  # what to mask more as, in words
    found = text(post(client, base(survey), {"search": "ramirez"}, token_page=base(survey), follow_redirects=True))
    assert "1 of 6 answers match" in found and "Ramirez" not in found
    assert "The words searched for are in this answer, where it is masked." in found
    client.get(f"{base(survey)}?clear=1")
    row = db.session.get(WrittenMask, (question.id, ids[0]))
    [name] = [s for s in row.spans if s[2] == "name"]
    reply = post(client, masks, {"action": "unmask", "start": name[0], "end": name[1]}, token_page=masks)
    assert reply.status_code == 303
    assert "Officer Ramirez was rude, badge [badge]" in text(client.get(base(survey)))
    refused = post(client, masks, {"action": "mask", "words": "Gonzalez", "kind": "name"}, token_page=masks)
    assert refused.status_code == 422 and "Those words are not in this answer" in text(refused)
    assert 'value="Gonzalez"' in text(refused)  # what was typed is kept
    assert post(client, masks, {"action": "mask", "words": "ramirez", "kind": "name"}, token_page=masks).status_code == 303
    assert "Officer [name] was rude" in text(client.get(base(survey)))
    row = db.session.get(WrittenMask, (question.id, ids[0]))
    db.session.refresh(row)
    assert row.edited and [s[3] for s in row.spans if s[2] == "name"] == ["staff"]
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("written.%"))
                                 .order_by(AuditEntry.id)).all()
    assert [(e.action, e.details["kind"]) for e in entries] == [("written.unmask", "name"), ("written.mask", "name")]
    assert "amirez" not in repr([e.details for e in entries])  # the words never reach the log


def test_the_whole_response_shows_the_written_answer_masked_as_kept(client, app):
    """The response page, one click from the reading page, masks as the reading page does, with
    the staff's own changes, and links to the answer's masking page."""
    survey, question, ids = setup(app)
    sign_in(client, make_user("editor").email)
    whole = f"/staff/surveys/{survey.id}/responses/{ids[0]}"
    page = text(client.get(whole))
    assert "Officer [name] was rude, badge [badge]" in page and "Ramirez" not in page and "4521" not in page
    assert f'href="{base(survey)}/{ids[0]}/masks"' in page
    masks = f"{base(survey)}/{ids[0]}/masks"
    name = next(s for s in db.session.get(WrittenMask, (question.id, ids[0])).spans if s[2] == "name")
    post(client, masks, {"action": "unmask", "start": name[0], "end": name[1]}, token_page=masks)
    assert "Officer Ramirez was rude, badge [badge]" in text(client.get(whole))


def test_codebook_coding_one_at_a_time_again_and_in_bulk(client, app):
    survey, question, ids = setup(app)
    sign_in(client, make_user("editor").email)
    book = f"{base(survey)}/codebook"
    assert "Start from the suggested codebook" not in text(client.get(book))  # not the bank's question
    for label, spanish in (("Speeding", "Velocidad"), ("Drugs", "Drogas"), ("Lighting", "Alumbrado")):
        assert post(client, book, {"action": "add", "label": label, "label_es": spanish}, token_page=book).status_code == 303
    refused = post(client, book, {"action": "add", "label": "speeding"}, token_page=book)
    assert refused.status_code == 422 and "already has a theme “Speeding”" in text(refused)
    lighting = written_coding.themes(question)[2]
    renamed = post(client, book, {"action": "change", "theme_id": lighting.id, "label": "Drugs", "label_es": "Luz"},
                   token_page=book)
    page = text(renamed)
    assert renamed.status_code == 422 and "Theme 3 (“Lighting”): The codebook already has a theme “Drugs”." in page
    assert f'id="label-{lighting.id}" name="label" value="Drugs"' in page and 'value="Luz"' in page  # kept
    numbers = {t.label: t.number for t in written_coding.themes(question)}
    assert written_coding.themes(question)[0].translations == {"es": "Velocidad"}

    coding = f"{base(survey)}/coding"
    page = text(client.get(coding))
    first = sorted(ids)[0]
    assert f'name="response_id" value="{first}"' in page and "keys 1 to 3 tick a theme; Enter saves" in page
    assert post(client, coding, {"action": "skip", "response_id": first}, token_page=coding).location.endswith(
        f"coding?after={first}")
    reply = post(client, coding, {"action": "save", "response_id": first, "theme": [numbers["Drugs"]]},
                 token_page=coding)
    assert reply.status_code == 303 and f'value="{sorted(ids)[1]}"' in text(client.get(reply.location))
    assert db.session.get(Coding, (question.id, first, "main")).themes == [numbers["Drugs"]]
    # Coded again from the reading page, its themes ticked.
    again = text(client.get(f"{coding}?response={first}"))
    assert re.search(rf'id="theme-{numbers["Drugs"]}" name="theme" value="{numbers["Drugs"]}" data-key="2" checked', again)

    # Bulk: search "speeding", give all three found the theme.
    # First asked, saying how many answers gain it; nothing changes until confirmed.
    refused = post(client, base(survey), {"search": "speeding", "action": "bulk", "bulk_theme": ""},
                   token_page=base(survey), follow_redirects=True)
    assert "Choose the theme to give the answers found." in text(refused)
    asked = post(client, base(survey), {"search": "speeding", "action": "bulk", "bulk_theme": numbers["Speeding"]},
                 token_page=base(survey), follow_redirects=True)
    page = " ".join(text(asked).split())
    assert "3 of 6 answers match" in page and "Give “Speeding” to the answers found?" in page
    assert "3 of the 3 answers found would gain the theme." in page
    assert "Give “Speeding” to 3 answers</button>" in page
    assert not any(numbers["Speeding"] in t for t in written_coding.effective_codings(question.id).values())
    assert "Give “Speeding” to the answers found?" not in text(client.get(base(survey)))  # asked once
    # Confirmed with another search typed in meanwhile: not done, asked again for the new one.
    moved = post(client, base(survey), {"search": "cars", "action": "bulk", "bulk_theme": numbers["Speeding"],
                                        "confirmed": "yes"}, token_page=base(survey), follow_redirects=True)
    page = " ".join(text(moved).split())
    assert "The search or filters changed since you were asked" in page and "3 of the 3 answers found" not in page
    assert "Give “Speeding” to the answers found?" in page and "2 of the 2 answers found would gain" in page
    assert not any(numbers["Speeding"] in t for t in written_coding.effective_codings(question.id).values())
    post(client, base(survey), {"search": "speeding", "action": "show"}, token_page=base(survey))
    done = post(client, base(survey), {"search": "speeding", "action": "bulk", "bulk_theme": numbers["Speeding"],
                                       "confirmed": "yes"}, token_page=base(survey), follow_redirects=True)
    assert "Gave “Speeding” to the 3 answers found." in text(done) and "3 of 6 answers match" in text(done)
    coded = written_coding.effective_codings(question.id)
    assert sum(numbers["Speeding"] in themes for themes in coded.values()) == 3
    # Asked again: all three have it already.
    again = post(client, base(survey), {"search": "speeding", "action": "bulk", "bulk_theme": numbers["Speeding"]},
                 token_page=base(survey), follow_redirects=True)
    assert "0 of the 3 answers found would gain the theme (3 have it already)." in " ".join(text(again).split())

    # A theme added once answers are coded: the page says they do not have it, and how to give it.
    added = post(client, book, {"action": "add", "label": "Noise"}, token_page=book, follow_redirects=True)
    coded_now = written_coding.progress(question).coded
    assert (f"Added the theme “Noise”. {coded_now} answers were coded before it existed and do not have it"
            in text(added))
    # Removing a theme asks first, saying how many coded answers lose it.
    drugs = next(t for t in written_coding.themes(question) if t.label == "Drugs")
    ask = post(client, book, {"action": "remove", "theme_id": drugs.id}, token_page=book)
    assert ask.status_code == 200 and "1 coded answer has this theme: it loses it" in text(ask)
    assert "Drugs" in [t.label for t in written_coding.themes(question)]
    done = post(client, book, {"action": "remove", "theme_id": drugs.id, "confirmed": "yes"}, token_page=book)
    assert "Removed the theme “Drugs”; 1 coded answer lost it." in text(client.get(done.location))


def test_blind_second_coding_and_agreement_pages(client, app):
    survey, question, ids = setup(app)
    first, second = make_user("editor"), make_user("admin")
    theme = written_coding.add_theme(question, "Speeding")
    other = written_coding.add_theme(question, "Other")
    for response_id in ids:
        written_coding.code_answer(question, response_id, [theme.number], first)
    sign_in(client, first.email)
    check = f"{base(survey)}/check"
    assert post(client, check, {"action": "sample", "size": "4"}, token_page=check).status_code == 303
    assert "No sampled answer is waiting for you" in text(client.get(check))  # blind: not their own
    second_client = app.test_client()
    sign_in(second_client, second.email)
    for i in range(4):
        page = text(second_client.get(check))
        assert "suggested" not in page and "checked" not in page  # nothing of the first coding shows
        response_id = re.search(r'name="response_id" value="(\d+)"', page).group(1)
        chosen = [theme.number] if i < 3 else [other.number]
        post(second_client, check, {"response_id": response_id, "theme": chosen}, token_page=check)
    page = text(second_client.get(f"{base(survey)}/agreement"))
    assert "4 answers coded by two staff" in page
    # Speeding: both 3, first only 1, second only 0, neither 0 -> chance agreement 1 x .75: kappa 0.
    assert re.search(r"<th scope=\"row\">Speeding</th><td>3</td><td>1</td><td>0</td><td>0</td>\s*<td>0.00</td>", page)
    assert "Disagreements to settle" in page and "First coder: Speeding" in page


def test_only_staff_allowed_to_read_the_words(client, app):
    survey, question, ids = setup(app)
    sign_in(client, make_user("analyst").email)
    for path in ("codebook", "coding", "check", "agreement", f"{ids[0]}/masks"):
        assert client.get(f"{base(survey)}/{path}").status_code == 403, path


def test_a_removed_response_takes_its_masks_and_codings_along(client, app):
    from survey_app.response_review import remove_response

    survey, question, ids = setup(app)
    coder = make_user("editor")
    theme = written_coding.add_theme(question, "Speeding")
    written_coding.code_answer(question, ids[0], [theme.number], coder)
    sign_in(client, coder.email)
    client.get(base(survey))  # masks found and kept
    assert db.session.get(WrittenMask, (question.id, ids[0])) is not None
    from survey_app.response_review import find_response
    remove_response(survey, find_response(survey, ids[0]), "Entered twice", coder)
    db.session.expire_all()
    assert db.session.get(WrittenMask, (question.id, ids[0])) is None
    assert db.session.get(Coding, (question.id, ids[0], "main")) is None


def test_spanish_answers_are_masked_and_coded_with_the_same_codebook(client, app):
    from survey_app.forms.response import AnswerValue
    from survey_app.responses import record_response

    from .factories import question as question_of

    survey, question, ids = setup(app)
    spanish = record_response(survey, [AnswerValue(question_of(survey, "trust").id, value=2),
                                       AnswerValue(question_of(survey, "district").id, value=1),
                                       AnswerValue(question.id, text="Me llamo Juan Pérez, venden drogas en el "
                                                                     "parque, llámenme al 612 345 678")],
                              language="es")
    theme = written_coding.add_theme(question, "Drugs", {"es": "Drogas"})
    sign_in(client, make_user("editor").email)
    page = text(client.get(f"{base(survey)}/coding?response={spanish}"))
    assert 'lang="es"' in page and "Me llamo [name], venden drogas en el parque, llámenme al [phone]" in page
    post(client, f"{base(survey)}/coding", {"action": "save", "response_id": spanish, "theme": [theme.number]},
         token_page=f"{base(survey)}/coding")
    assert written_coding.effective_codings(question.id)[spanish] == [theme.number]


def test_a_refused_coding_shows_the_same_answer_with_its_ticks(client, app):
    """A theme removed meanwhile by someone else: the coder keeps their place and the other ticks."""
    survey, question, ids = setup(app)
    sign_in(client, make_user("editor").email)
    gone, kept = written_coding.add_theme(question, "Drugs"), written_coding.add_theme(question, "Lighting")
    coding, third = f"{base(survey)}/coding", sorted(ids)[2]  # not the first answer the page would show
    written_coding.remove_theme(question, gone)
    refused = post(client, coding, {"response_id": third, "theme": [gone.number, kept.number]}, token_page=coding)
    page = text(refused)
    assert refused.status_code == 422 and "no longer in the codebook" in page
    assert f'name="response_id" value="{third}"' in page and re.search(rf'value="{kept.number}" data-key="1" checked', page)
    assert db.session.get(Coding, (question.id, third, "main")) is None


def test_an_answer_fitting_no_theme_is_said_so_never_by_a_stray_save(client, app):
    survey, question, ids = setup(app)
    editor = make_user("editor")
    sign_in(client, editor.email)
    theme = written_coding.add_theme(question, "Speeding")
    coding, first = f"{base(survey)}/coding", sorted(ids)[0]
    refused = post(client, coding, {"action": "save", "response_id": first}, token_page=coding)
    assert refused.status_code == 422 and "Tick at least one theme; if none fits, use the “no theme” button." in text(refused)
    assert f'name="response_id" value="{first}"' in text(refused)
    assert db.session.get(Coding, (question.id, first, "main")) is None
    assert post(client, coding, {"action": "none", "response_id": first, "theme": [theme.number]},
                token_page=coding).status_code == 303
    assert db.session.get(Coding, (question.id, first, "main")).themes == []
    assert "Themes: no theme fits" in text(client.get(base(survey)))

    # Settling a disagreement on no theme is a button of its own too.
    second = make_user("admin")
    written_coding.code_answer(question, sorted(ids)[1], [theme.number], editor)
    written_coding.draw_sample(question, 2, editor)
    for response_id in (first, sorted(ids)[1]):
        written_coding.check_answer(question, response_id, [theme.number] if response_id == first else [], second)
    agreement = f"{base(survey)}/agreement"
    assert post(client, agreement, {"action": "save", "response_id": first}, token_page=agreement).status_code == 422
    assert post(client, agreement, {"action": "none", "response_id": first}, token_page=agreement).status_code == 303
    assert db.session.get(Coding, (question.id, first, "final")).themes == []


def test_the_bulk_preview_counts_what_would_change(app):
    survey, question, ids = setup(app)
    editor = make_user("editor")
    speeding, drugs = written_coding.add_theme(question, "Speeding"), written_coding.add_theme(question, "Drugs")
    written_coding.code_answer(question, ids[0], [drugs.number], editor)  # coded, and sampled
    written_coding.code_answer(question, ids[1], [speeding.number], editor)  # has it already
    written_coding.code_answer(question, ids[2], [drugs.number], editor)  # coded, not sampled
    written_coding.draw_sample(question, 3, editor)
    preview = written_coding.bulk_preview(question, ids[:4], speeding)
    assert (preview.found, preview.gaining, preview.coded, preview.sampled) == (4, 3, 2, 2)
