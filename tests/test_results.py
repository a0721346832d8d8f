"""Public results pages read stored output and never show free text."""
import html

from survey_app.analysis.pipeline import analyze_survey
from survey_app.extensions import db

from .factories import add_response, make_survey

SECRET_TEXT = "Call me at 555-0100"


def analysed_survey(app, n=60, **changes):
    survey = make_survey(**changes)
    for i in range(n):
        add_response(survey, trust=[5, 4, 2][i % 3], district=1 + i % 3, years=10 + i, comment=SECRET_TEXT)
    with db.engine.connect() as connection:
        analyze_survey(connection, survey.slug, app.config["GENERATED_DIR"])
    return survey


def test_results_page_shows_tables_charts_and_no_free_text(client, app):
    analysed_survey(app)
    response = client.get("/results/small")
    assert response.status_code == 200
    assert response.cache_control.public and response.cache_control.max_age == 300
    page = html.unescape(response.get_data(as_text=True))
    assert "Results: Small test survey" in page
    assert "Based on 60 responses" in page and "unweighted" in page
    # trust: 20 x 5, 20 x 4, 20 x 2 -> 66.7% agree, mean (100 + 80 + 40) / 60 = 3.67
    assert "67%</strong> agree or strongly agree" in page
    assert '<th scope="row">Mean on 1 to 5</th><td>3.67</td>' in page
    assert '<th scope="row">Strongly agree</th><td>33.3%</td>' in page
    assert '<td>20</td></tr>' in page
    assert 'src="/results/small/charts/trust.svg" alt="Bar chart of 60 answers' in page
    assert "Written answers are not published" in page
    # Breakdown by district (20 each, all shown) with its gaps section.
    assert "By district" in page and '<th scope="row">North</th>' in page
    assert SECRET_TEXT not in page


def test_chart_files_are_served(client, app):
    analysed_survey(app)
    response = client.get("/results/small/charts/trust.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert client.get("/results/small/charts/trust.png").mimetype == "image/png"
    assert client.get("/results/small/charts/missing.png").status_code == 404
    assert client.get("/results/small/charts/../results.json").status_code == 404


def test_results_not_available_until_analysed(client, app):
    make_survey()
    response = client.get("/results/small")
    assert response.status_code == 404
    assert client.get("/results/nothing-here").status_code == 404


def test_draft_survey_results_are_never_public(client, app):
    survey = analysed_survey(app)
    survey.status = "draft"
    db.session.commit()
    assert client.get("/results/small").status_code == 404
    assert client.get("/results/small/charts/trust.svg").status_code == 404
    assert "Small test survey" not in client.get("/results/").get_data(as_text=True)


def test_small_survey_shows_no_figures(client, app):
    analysed_survey(app, n=4)
    page = html.unescape(client.get("/results/small").get_data(as_text=True))
    assert "Fewer than 10 people have answered this survey so far" in page
    assert "<table" not in page and "Strongly agree" not in page


def test_index_lists_analysed_surveys(client, app):
    analysed_survey(app)
    make_survey(slug="other", title="Not analysed yet")
    page = html.unescape(client.get("/results/").get_data(as_text=True))
    assert "Small test survey" in page and "60 responses" in page
    assert "Not analysed yet" not in page


def test_small_groups_show_a_dash_not_a_figure(client, app):
    survey = make_survey()
    for i in range(40):
        add_response(survey, trust=[5, 4][i % 2], district=1 if i < 36 else 2)  # 4 in the second district
    with db.engine.connect() as connection:
        analyze_survey(connection, survey.slug, app.config["GENERATED_DIR"])
    page = html.unescape(client.get("/results/small").get_data(as_text=True))
    assert "By district" in page
    row = page[page.index('<th scope="row">South</th>'):]
    row = row[:row.index("</tr>")]
    assert row.count("–") == 3  # percent, CI and n all hidden
