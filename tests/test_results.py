"""Public results: published, immutable versions read from their files; withdrawal; open data;
never free text, small cells or anything unpublished."""
import csv
import hashlib
import html
import io
import json
import math
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from survey_app import publishing
from survey_app.analysis.fieldwork import margin_of_error
from survey_app.analysis.pipeline import analyze_survey, read_results
from survey_app.extensions import db
from survey_app.models import AuditEntry, Snapshot

from .factories import add_response, make_survey
from .staff_helpers import make_user, post, sign_in

SECRET_TEXT = "Call me at 555-0100"


def analyse(app, survey):
    with db.engine.connect() as connection:
        analyze_survey(connection, survey.slug, app.config["GENERATED_DIR"])


def analysed_survey(app, n=60, **changes):
    survey = make_survey(**changes)
    for i in range(n):
        add_response(survey, trust=[5, 4, 2][i % 3], district=1 + i % 3, years=10 + i, comment=SECRET_TEXT)
    analyse(app, survey)
    return survey


def published_survey(app, n=60, **changes):
    survey = analysed_survey(app, n, **changes)
    publishing.publish(survey, app.config["GENERATED_DIR"])
    return survey


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def files_of(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_results_page_shows_tables_charts_methodology_and_no_free_text(client, app):
    published_survey(app)
    response = client.get("/results/small")
    assert response.status_code == 200
    assert response.cache_control.public and response.cache_control.max_age == 300 and response.get_etag()[0]
    page = text(response)
    assert "Results: Small test survey" in page and "Version 1, published" in page
    assert "60 online" in page and "unweighted" in page
    # trust: 20 x 5, 20 x 4, 20 x 2 -> 66.7% agree, mean (100 + 80 + 40) / 60 = 3.67
    assert "67%</strong> agree or strongly agree" in page
    assert '<th scope="row">Mean on 1 to 5</th><td>3.67</td>' in page
    assert '<th scope="row">Strongly agree</th><td>33.3%</td>' in page
    assert 'src="/results/small/v1/charts/trust.svg" alt="Bar chart of 60 answers' in page
    assert "Written answers are not published" in page
    assert "By district" in page and '<th scope="row">North</th>' in page
    # The margin of error of a survey-wide percentage: 1.96 * sqrt(0.25 / 60) = 12.65 points.
    assert "Up to ±12.7 percentage points" in page
    assert 'href="/results/small/v1/data.csv"' in page and 'href="/results/small/v1/data.json"' in page
    assert SECRET_TEXT not in page
    # The same response again: a conditional request is answered 304 without a body.
    again = client.get("/results/small", headers={"If-None-Match": response.get_etag()[0].join('""')})
    assert again.status_code == 304


def test_margin_of_error_by_hand():
    assert margin_of_error(400) == pytest.approx(4.9)  # 1.96 * 0.025 * 100
    assert margin_of_error(400, design_effect=2.0) == pytest.approx(4.9 * math.sqrt(2))
    assert margin_of_error(0) is None


def test_chart_files_are_served_from_the_version(client, app):
    published_survey(app)
    response = client.get("/results/small/v1/charts/trust.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert client.get("/results/small/v1/charts/trust.png").mimetype == "image/png"
    assert client.get("/results/small/v1/charts/missing.png").status_code == 404
    assert client.get("/results/small/v1/charts/../results.json").status_code == 404
    assert client.get("/results/small/v2/charts/trust.svg").status_code == 404


def test_analysed_but_unpublished_results_are_not_public(client, app):
    analysed_survey(app)
    assert read_results(app.config["GENERATED_DIR"], "small") is not None  # the draft exists
    for path in ("/results/small", "/results/small/v1", "/results/small/v1/data.csv",
                 "/results/small/v1/charts/trust.svg", "/results/nothing-here"):
        assert client.get(path).status_code == 404, path
    assert "Small test survey" not in text(client.get("/results/"))
    # Staff review the draft page; the public cannot.
    survey_id = db.session.scalar(select(Snapshot.survey_id)) or 1
    draft_path = f"/staff/surveys/{survey_id}/results/draft"
    assert client.get(draft_path).status_code == 302  # to sign-in
    sign_in(client, make_user("analyst").email)
    page = text(client.get(draft_path))
    assert "Draft: not public" in page and "67%</strong> agree" in page
    assert f'src="/staff/surveys/{survey_id}/results/draft/charts/trust.svg"' in page


def test_draft_survey_results_are_never_public(client, app):
    survey = published_survey(app)
    survey.status = "draft"
    db.session.commit()
    assert client.get("/results/small").status_code == 404
    assert client.get("/results/small/v1/charts/trust.svg").status_code == 404
    assert "Small test survey" not in text(client.get("/results/"))


def test_publishing_again_makes_a_new_version_and_leaves_the_first_byte_identical(client, app):
    survey = published_survey(app)
    generated = Path(app.config["GENERATED_DIR"])
    first = db.session.scalars(select(Snapshot)).one()
    before = files_of(generated / first.storage_path)
    assert {"results.json", "data.csv", "data.json", "manifest.json", "charts/trust.svg"} <= set(before)
    page_v1 = client.get("/results/small/v1").get_data()
    # More answers, a new analysis, a second publication.
    for i in range(30):
        add_response(survey, trust=1, district=1)
    analyse(app, survey)
    second = publishing.publish(survey, generated)
    assert (first.version, second.version) == (1, 2)
    assert files_of(generated / first.storage_path) == before
    for snapshot in (first, second):  # each manifest holds the SHA-256 of every other file of its version
        digests = files_of(generated / snapshot.storage_path)
        manifest = json.loads((generated / snapshot.storage_path / "manifest.json").read_text("utf-8"))
        assert manifest == {name: digest for name, digest in digests.items() if name != "manifest.json"}
    assert client.get("/results/small/v1").get_data() != b""
    assert "90 online" in text(client.get("/results/small")) and "60 online" in text(client.get("/results/small/v1"))
    assert 'href="/results/small/v1">version 1</a>' in text(client.get("/results/small"))
    # Version 1's page is drawn from version 1's files: unchanged but for the list of versions.
    strip = re.compile(rb'<p class="meta version-line">.*?</p>', re.S)
    assert strip.sub(b"", client.get("/results/small/v1").get_data()) == strip.sub(b"", page_v1)
    # The files are read-only on disk.
    assert not (generated / first.storage_path / "results.json").stat().st_mode & 0o222


def test_withdrawing_hides_the_data_and_shows_the_notice(client, app):
    survey = published_survey(app)
    sign_in(client, make_user("analyst").email)
    base = f"/staff/surveys/{survey.id}/results"
    refused = post(client, f"{base}/v1/withdraw", {"notice": "  "}, token_page=base)
    assert refused.status_code == 422 and "Write the notice" in text(refused)
    notice = "Withdrawn: district figures were computed with the wrong population table. A corrected version follows."
    assert post(client, f"{base}/v1/withdraw", {"notice": notice}, token_page=base).status_code == 303
    public = app.test_client()
    for path in ("/results/small", "/results/small/v1"):
        response = public.get(path)
        page = text(response)
        assert response.status_code == 410 and notice in page, path
        assert "Strongly agree" not in page and "<table" not in page and "<img" not in page
    for path in ("/results/small/v1/data.csv", "/results/small/v1/data.json", "/results/small/v1/charts/trust.svg"):
        assert public.get(path).status_code == 410, path
    assert "Small test survey" not in text(public.get("/results/"))
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "results.withdraw")).one()
    assert entry.details["version"] == 1
    # A corrected version is published beside it; the withdrawn one keeps its notice.
    assert post(client, f"{base}/publish", {}, token_page=base).status_code == 303
    assert public.get("/results/small").status_code == 200
    assert "version 1</a> (withdrawn)" in text(public.get("/results/small"))
    assert public.get("/results/small/v1").status_code == 410


def test_open_data_equals_the_analysis_results(client, app):
    published_survey(app)
    results = read_results(app.config["GENERATED_DIR"], "small")
    document = json.loads(client.get("/results/small/v1/data.json").get_data())
    assert document["results"] == results and document["version"] == 1
    response = client.get("/results/small/v1/data.csv")
    assert response.mimetype == "text/csv"
    assert 'filename=small-v1-data.csv' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert list(rows[0]) == [name for name, _ in publishing.CSV_COLUMNS]
    trust = next(q for q in results["questions"] if q["code"] == "trust")
    expected = [r for r in trust["estimates"]["overall"]]
    got = [r for r in rows if r["item_code"] == "trust" and r["group_variable"] == ""]
    assert len(got) == len(expected)
    for row, figure in zip(got, expected):
        assert row["statistic"] == figure["statistic"]
        assert float(row["estimate"]) == figure["estimate"] and float(row["ci_low"]) == figure["lci"]
        assert float(row["ci_high"]) == figure["uci"] and int(row["respondents"]) == figure["n"]
    agree = next(r for r in got if r["statistic"] == "percent_agree")
    assert float(agree["estimate"]) == pytest.approx(200 / 3)  # 40 of 60, by hand
    by_district = [r for r in rows if r["item_code"] == "trust" and r["group_variable"] == "district"
                   and r["statistic"] == "percent_agree"]
    assert [r["group_label"] for r in by_district] == ["North", "South", "East"]
    # Every figure in the CSV is in the JSON (the CSV is the JSON's rows, flattened).
    assert len(rows) == len(publishing.open_data_rows(results, 1))
    assert "comment" not in {r["item_code"] for r in rows}
    assert "What the columns mean" in text(client.get("/results/small")) and \
        "standard_error" in text(client.get("/results/open-data"))


def test_no_free_text_and_no_small_cell_in_any_public_output(client, app):
    survey = make_survey()
    k = survey.min_cell_size
    for i in range(44):  # 40 in the North, 4 in the South: the South is a small group
        add_response(survey, trust=[5, 4, 2, 1][i % 4], district=1 if i < 40 else 2, years=i,
                     comment=f"{SECRET_TEXT} #{i}", contact=1 if i < 41 else 2)
    analyse(app, survey)
    snapshot = publishing.publish(survey, app.config["GENERATED_DIR"])
    folder = publishing.snapshot_dir(app.config["GENERATED_DIR"], snapshot)
    outputs = {path: (folder / path).read_bytes() for path in files_of(folder)}
    for path in ("/results/", "/results/small", "/results/small/v1"):
        outputs[path] = client.get(path).get_data()
    for name, content in outputs.items():
        assert b"555-0100" not in content, name  # no written answer anywhere, in any file or page
    rows = list(csv.DictReader(io.StringIO(outputs["data.csv"].decode())))
    shown = [r for r in rows if r["suppressed"] == "false"]
    assert shown and all(int(r["respondents"]) >= k for r in shown)
    south = [r for r in rows if r["group_variable"] == "district" and r["group_code"] == "2"]
    assert south and all(r["suppressed"] == "true" and r["estimate"] == "" and r["respondents"] == "" for r in south)
    # The small contact group ("No": 3 people) is not shown by count anywhere either.
    results = json.loads(outputs["data.json"])["results"]
    for item in results["questions"]:
        for row in item.get("table") or []:
            assert row["count"] is None or row["count"] >= k or row["count"] == 0, (item["code"], row)
    page = html.unescape(outputs["/results/small"].decode())
    row = page[page.index('<th scope="row">South</th>'):]
    row = row[:row.index("</tr>")]
    assert row.count("–") == 3 and "Not shown: fewer than 10 respondents" in page


def test_small_survey_shows_no_figures(client, app):
    published_survey(app, n=4)
    page = text(client.get("/results/small"))
    assert "Fewer than 10 people have answered this survey so far" in page
    assert "<table" not in page and "Strongly agree" not in page


def test_index_lists_published_surveys_newest_first_with_headlines(client, app):
    published_survey(app)
    second = make_survey(slug="later", title="A later survey")
    for i in range(30):
        add_response(second, trust=4, district=1)
    analyse(app, second)
    publishing.publish(second, app.config["GENERATED_DIR"])
    analysed_survey(app, slug="unpublished", title="Not published yet")
    page = text(client.get("/results/"))
    assert page.index("A later survey") < page.index("Small test survey")
    assert "60 responses" in page and "Not published yet" not in page


def test_staff_publish_from_the_review_page_and_it_is_audited(client, app):
    survey = analysed_survey(app)
    sign_in(client, make_user("analyst").email)
    base = f"/staff/surveys/{survey.id}/results"
    page = text(client.get(base))
    assert "Publish as version 1" in page and "Review the draft page" in page
    response = post(client, f"{base}/publish", {}, token_page=base)
    assert response.status_code == 303 and "/staff/jobs/" in response.location  # a background job
    outcome = text(client.get(response.location))
    assert "Published version 1." in outcome and "http://localhost/results/small/v1" in outcome
    assert "Version 1" in text(client.get(base)) and client.get("/results/small/v1").status_code == 200
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "results.publish")).one()
    assert entry.details == {"version": 1} and entry.user_email == "analyst@city.example"
    editor = app.test_client()
    sign_in(editor, make_user("editor").email)
    assert editor.get(base).status_code == 403  # editors design; analysts and admins publish


def test_publish_command(app, runner):
    analysed_survey(app)
    result = runner.invoke(args=["publish", "small"])
    assert result.exit_code == 0 and "Published 'small' version 1" in result.output
    again = runner.invoke(args=["publish", "small", "--if-unpublished"])
    assert again.exit_code == 0 and "already has published results" in again.output
    assert [s.version for s in db.session.scalars(select(Snapshot))] == [1]
    make_survey(slug="fresh")
    missing = runner.invoke(args=["publish", "fresh"])
    assert missing.exit_code == 1 and "run the analysis first" in missing.output


def test_staff_pages_are_never_cached_as_the_public_page(client, app):
    published_survey(app)
    sign_in(client, make_user("analyst").email)
    staff_view = client.get("/results/small")
    assert "Sign out" in text(staff_view) and staff_view.headers["Cache-Control"] == "private, no-store"
    public = app.test_client().get("/results/small")
    assert "Sign out" not in text(public) and "csrf_token" not in text(public)
    assert public.cache_control.public and "Cookie" in public.headers["Vary"]


def test_results_in_spanish_where_the_survey_is_translated(client, app):
    from survey_app.cli import create_demo_survey

    demo = create_demo_survey(responses=300, seed=4)  # the demo is in English and Spanish
    analyse(app, demo)
    publishing.publish(demo, app.config["GENERATED_DIR"])
    published_survey(app)  # "small": English only
    page = text(client.get("/results/community-trust?lang=es"))
    assert '<html lang="es">' in page
    assert "Resultados: Confianza de la comunidad en la policía" in page
    assert "En general, confío en la policía de mi ciudad." in page and "Índice de confianza" in page
    assert "Por distrito" in page and '<th scope="row">Norte</th>' in page
    assert 'src="/results/community-trust/v1/charts/es/trust_overall.svg"' in page
    assert 'alt="Gráfico de barras de' in page and "Cómo se obtuvieron estas cifras" in page
    assert "Overall, I trust the police" not in page
    english = text(client.get("/results/community-trust?lang=en"))
    assert 'src="/results/community-trust/v1/charts/trust_overall.svg"' in english and "By district" in english
    # The Spanish chart is a file of the published version.
    assert client.get("/results/community-trust/v1/charts/es/trust_overall.svg").status_code == 200
    # A survey without Spanish stays English, with a matching lang attribute.
    small = text(client.get("/results/small?lang=es"))
    assert '<html lang="en">' in small and "Results: Small test survey" in small
    index = text(client.get("/results/?lang=es"))
    assert "Confianza de la comunidad en la policía" in index and "Resultados de las encuestas" in index
