"""Quotes of what residents wrote on the published page (survey_app/written_quotes.py): none unless
a person approves one; only the masked words, in order; never from a small group, checked again
when published; withdrawn or removed with the response."""
from __future__ import annotations

import html
import json

import pytest
from sqlalchemy import select

from survey_app import publishing, written_quotes
from survey_app.analysis.pipeline import analyze_survey, read_results
from survey_app.extensions import db
from survey_app.models import AuditEntry, Question
from survey_app.response_review import find_response, remove_response

from .factories import add_response, make_survey
from .staff_helpers import make_user, post, sign_in


def setup(app, districts=(1, 2, 3), each=12):
    survey = make_survey()
    question = db.session.scalar(select(Question).where(Question.survey_id == survey.id, Question.code == "comment"))
    ids = {}
    for district in districts:
        for i in range(each):
            ids.setdefault(district, []).append(add_response(
                survey, trust=1 + i % 5, district=district,
                comment=f"Officer Ramirez never patrols district {district}, cars speed all night ({i})"))
    return survey, question, ids


def analysed_quotes(app, survey, code="comment"):
    with db.engine.connect() as connection:
        analyze_survey(connection, survey.slug, app.config["GENERATED_DIR"])
    item = next(q for q in read_results(app.config["GENERATED_DIR"], survey.slug)["questions"] if q["code"] == code)
    return item.get("quotes", [])


def test_nothing_is_quoted_unless_a_person_approves_and_only_masked_words(app):
    survey, question, ids = setup(app)
    assert analysed_quotes(app, survey) == []  # off by default
    editor = make_user("editor")
    first = ids[1][0]
    with pytest.raises(written_quotes.QuoteRefused, match="the answer's own words in order"):
        written_quotes.approve(survey, question, first, "Officer Ramirez never patrols", editor)  # unmasked name
    with pytest.raises(written_quotes.QuoteRefused, match="own words in order"):
        written_quotes.approve(survey, question, first, "never patrols, ever", editor)
    written_quotes.approve(survey, question, first, "  Officer [name] never patrols district 1,  cars speed all night",
                           editor)
    quotes = analysed_quotes(app, survey)
    assert quotes == [{"text": "Officer [name] never patrols district 1, cars speed all night", "language": "en"}]
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "quote.approve")).one()
    assert "Ramirez" not in repr(entry.details) and "patrols" not in repr(entry.details)
    for district in (2, 3):
        for response_id in ids[district][:2]:
            written_quotes.approve(survey, question, response_id, "cars speed all night", editor)
    with pytest.raises(written_quotes.QuoteRefused, match="At most 5 quotes"):
        written_quotes.approve(survey, question, ids[1][1], "cars speed all night", editor)
    written_quotes.withdraw(survey, question, first, editor)
    assert len(analysed_quotes(app, survey)) == 4


def test_never_from_a_small_group_and_checked_again_when_published(app):
    survey, question, ids = setup(app, districts=(1, 2), each=12)
    small = add_response(survey, trust=3, district=3, comment="speeding on my street")  # alone in district 3
    editor = make_user("editor")
    with pytest.raises(written_quotes.QuoteRefused, match="fewer than 10 respondents in: District"):
        written_quotes.approve(survey, question, small, "speeding on my street", editor)
    # Approved while district 2 had 12; then three responses are removed: 9 left, so the analysis drops it.
    quoted = ids[2][0]
    written_quotes.approve(survey, question, quoted, "cars speed all night", editor)
    assert analysed_quotes(app, survey) == [{"text": "cars speed all night", "language": "en"}]
    for response_id in ids[2][1:4]:
        remove_response(survey, find_response(survey, response_id), "Test", editor)
    assert analysed_quotes(app, survey) == []
    # A removed response takes its quote along.
    remove_response(survey, find_response(survey, quoted), "Test", editor)
    assert written_quotes.quotes(question) == []


def test_staff_approve_a_quote_from_the_masking_page_and_it_is_published(client, app):
    survey, question, ids = setup(app)
    sign_in(client, make_user("editor").email)
    masks = f"/staff/surveys/{survey.id}/written/comment/{ids[1][0]}/masks"
    page = html.unescape(client.get(masks).get_data(as_text=True))
    assert "Officer [name] never patrols district 1, cars speed all night (0)</textarea>" in page
    refused = post(client, masks, {"action": "quote", "excerpt": "Officer Ramirez"}, token_page=masks)
    assert refused.status_code == 422 and "own words in order" in html.unescape(refused.get_data(as_text=True))
    assert post(client, masks, {"action": "quote", "excerpt": "cars speed all night"}, token_page=masks).status_code == 303
    assert "“cars speed all night”" in html.unescape(client.get(
        f"/staff/surveys/{survey.id}/written/comment/codebook").get_data(as_text=True))
    analysed_quotes(app, survey)
    publishing.publish(survey, app.config["GENERATED_DIR"])
    public = html.unescape(app.test_client().get(f"/results/{survey.slug}").get_data(as_text=True))
    assert "In residents’ own words" in public and "“cars speed all night”" in public
    assert "Ramirez" not in public
    # The page no longer says no words are published: it says which are.
    words = " ".join(public.split())
    assert "never published" not in words
    assert "Other written answers are not published, to protect the privacy" in words
    assert "Written answers are not published, but for a few short quotes chosen by city staff" in words


def test_a_withdrawn_quote_leaves_every_published_version_at_once(client, app):
    """Withdrawn on the masking page: out of the draft, of each version's page, results and open
    data (its manifest made again), its figures untouched; changing a quote's words and removing
    its response take the old words out the same way."""
    import hashlib
    import json

    survey, question, ids = setup(app)
    editor = make_user("editor")
    first, second = ids[1][0], ids[2][0]
    written_quotes.approve(survey, question, first, "cars speed all night (0)", editor)
    written_quotes.approve(survey, question, second, "never patrols district 2", editor)
    analysed_quotes(app, survey)
    generated = app.config["GENERATED_DIR"]
    v1 = publishing.publish(survey, generated)
    folder = publishing.snapshot_dir(generated, v1)
    csv_before = (folder / "data.csv").read_bytes()
    reader = app.test_client()
    assert "cars speed all night (0)" in html.unescape(reader.get(f"/results/{survey.slug}").get_data(as_text=True))

    sign_in(client, editor.email)
    masks = f"/staff/surveys/{survey.id}/written/comment/{first}/masks"
    done = post(client, masks, {"action": "withdraw_quote"}, token_page=masks, follow_redirects=True)
    assert "no results show it any more; it was taken out of published version 1 too" in html.unescape(
        done.get_data(as_text=True))
    for address in (f"/results/{survey.slug}", f"/results/{survey.slug}/v1", f"/results/{survey.slug}/v1/data.json"):
        page = html.unescape(reader.get(address).get_data(as_text=True))
        assert "cars speed all night (0)" not in page and "never patrols district 2" in page
    assert "cars speed all night (0)" not in json.dumps(read_results(generated, survey.slug))  # nor the draft
    assert (folder / "data.csv").read_bytes() == csv_before  # the figures as they were
    kept = json.loads((folder / "manifest.json").read_text())
    assert kept == {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in kept}
    assert kept == publishing.manifest(folder) and not [p for p in folder.iterdir() if p.name.startswith(".")]
    assert publishing.publish_refusal(survey, generated, read_results(generated, survey.slug)).startswith(
        "This analysis is public already, as version 1")  # the draft is still that version

    # Changed words: the old ones go.
    written_quotes.approve(survey, question, second, "never patrols", editor)
    assert "never patrols district 2" not in reader.get(f"/results/{survey.slug}/v1/data.json").get_data(as_text=True)
    # A removed response: its quote goes (the new words had never been published: nothing to take out).
    analysed_quotes(app, survey)
    for _ in range(10):
        add_response(survey, trust=3, district=1, comment="more")
    analysed_quotes(app, survey)
    publishing.publish(survey, generated)
    assert "“never patrols”" in html.unescape(reader.get(f"/results/{survey.slug}").get_data(as_text=True))
    remove_response(survey, find_response(survey, second), "A test entry.", editor)
    assert "never patrols" not in html.unescape(reader.get(f"/results/{survey.slug}").get_data(as_text=True))


@pytest.mark.parametrize("fail_at", [1, 2, 3, 4])  # the draft, data.json, results.json, the manifest
def test_a_take_out_that_failed_half_way_is_finished_by_withdrawing_again(client, app, monkeypatch, fail_at):
    survey, question, ids = setup(app)
    editor = make_user("editor")
    written_quotes.approve(survey, question, ids[1][0], "cars speed all night (0)", editor)
    analysed_quotes(app, survey)
    generated = app.config["GENERATED_DIR"]
    folder = publishing.snapshot_dir(generated, publishing.publish(survey, generated))
    real, calls = publishing._rewrite, []

    def fails_once(path, content):
        calls.append(path.name)
        if len(calls) == fail_at:
            raise OSError("disk full")
        real(path, content)

    monkeypatch.setattr(publishing, "_rewrite", fails_once)
    with pytest.raises(OSError):
        written_quotes.withdraw(survey, question, ids[1][0], editor)
    assert written_quotes.quotes(question)  # still approved: withdrawing again is possible
    monkeypatch.setattr(publishing, "_rewrite", real)
    assert written_quotes.withdraw(survey, question, ids[1][0], editor) == [1]
    for name in ("data.json", "results.json"):
        assert "cars speed all night (0)" not in (folder / name).read_text()
    assert json.loads((folder / "manifest.json").read_text()) == publishing.manifest(folder)
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]


def test_the_same_words_quoted_from_another_resident_stay(app):
    survey, question, ids = setup(app)
    editor = make_user("editor")
    for response_id in (ids[1][0], ids[2][0]):
        written_quotes.approve(survey, question, response_id, "cars speed all night", editor)
    analysed_quotes(app, survey)
    publishing.publish(survey, app.config["GENERATED_DIR"])
    assert written_quotes.withdraw(survey, question, ids[1][0], editor) == []  # the other still has them
    assert "“cars speed all night”" in html.unescape(app.test_client().get(f"/results/{survey.slug}").get_data(as_text=True))


def test_masking_words_of_an_approved_quote_withdraws_it_everywhere(client, app):
    survey, question, ids = setup(app)
    editor = make_user("editor")
    response_id = ids[1][0]
    written_quotes.approve(survey, question, response_id, "never patrols district 1, cars speed", editor)
    analysed_quotes(app, survey)
    publishing.publish(survey, app.config["GENERATED_DIR"])
    sign_in(client, editor.email)
    masks = f"/staff/surveys/{survey.id}/written/comment/{response_id}/masks"
    # Words elsewhere in the answer: the quote stays.
    post(client, masks, {"action": "mask", "words": "all night", "kind": "address"}, token_page=masks)
    assert written_quotes.quotes(question)
    done = post(client, masks, {"action": "mask", "words": "district 1", "kind": "address"}, token_page=masks,
                follow_redirects=True)
    assert "Its approved quote held those words, so it was withdrawn" in html.unescape(done.get_data(as_text=True))
    assert written_quotes.quotes(question) == []
    assert "district 1, cars" not in app.test_client().get(f"/results/{survey.slug}/v1/data.json").get_data(as_text=True)


def test_a_quote_withdrawn_after_the_analysis_read_it_is_not_published(app):
    """The analysis ran with the quote; it was withdrawn before publishing (as if the two had
    crossed): the new version leaves it out all the same."""
    from survey_app.models import WrittenQuote

    survey, question, ids = setup(app)
    written_quotes.approve(survey, question, ids[1][0], "cars speed all night (0)", make_user("editor"))
    assert analysed_quotes(app, survey)
    db.session.delete(db.session.get(WrittenQuote, (question.id, ids[1][0])))  # gone, the draft untouched
    db.session.commit()
    snapshot = publishing.publish(survey, app.config["GENERATED_DIR"])
    folder = publishing.snapshot_dir(app.config["GENERATED_DIR"], snapshot)
    for name in ("data.json", "results.json"):
        assert "cars speed all night (0)" not in (folder / name).read_text()
    assert json.loads((folder / "manifest.json").read_text()) == publishing.manifest(folder)
