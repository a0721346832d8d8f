"""Every CSV the app writes is safe to open in a spreadsheet: a cell that would be read as a
formula gets a leading quote, and number columns stay numbers (survey_app/spreadsheet_csv.py)."""
from __future__ import annotations

import copy
import csv
import io

import pytest

from survey_app import publishing, spreadsheet_csv
from survey_app.analysis.pipeline import analyze_survey
from survey_app.extensions import db

from .factories import SMALL_SURVEY, add_response, make_survey
from .http_browser import Browser

HOSTILE = ['=HYPERLINK("http://evil.test")', "=cmd|' /C calc'!A0", "@SUM(1)", "+North", "-2+3+cmd|' /C calc'!A0",
           "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("cell", HOSTILE)
def test_a_formula_cell_gets_a_leading_quote(cell):
    assert spreadsheet_csv.neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["North", "12.5", "-3.5", "+4", "-0", "", "1e-05", "x=1", " =1"])
def test_numbers_and_plain_text_are_left_as_they_are(cell):
    assert spreadsheet_csv.neutralise(cell) == cell


def test_non_text_cells_are_left_as_they_are():
    assert [spreadsheet_csv.neutralise(v) for v in (-3, -2.5, None, True)] == [-3, -2.5, None, True]


def formula_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row
            if cell.startswith(spreadsheet_csv.FORMULA_START) and not spreadsheet_csv._is_number(cell)]


def hostile_survey():
    definition = copy.deepcopy(SMALL_SURVEY)
    views = definition["pages"][0]["questions"]
    views[1]["options"] = [{"code": 1, "label": HOSTILE[0]}, {"code": 2, "label": HOSTILE[3]},
                           {"code": 3, "label": "East"}]  # district, a breakdown: group labels
    views[2]["options"][:2] = [{"code": 1, "label": HOSTILE[1]}, {"code": 2, "label": HOSTILE[2]}]
    views[2]["text"] = HOSTILE[4]
    survey = make_survey(definition)
    for number in range(60):
        add_response(survey, trust=1 + number % 5, district=1 + number % 2, contact=1 + number % 2)
    return survey


def test_open_data_csv_replayed_against_gunicorn_runs_nothing(real_server, app):
    survey = hostile_survey()
    with db.engine.connect() as connection:
        analyze_survey(connection, survey.slug, app.config["GENERATED_DIR"])
    publishing.publish(survey, app.config["GENERATED_DIR"])
    reply = Browser(real_server.base_url).get("/results/small/v1/data.csv")
    assert reply.status == 200
    text = reply.text
    assert formula_cells(text) == []
    rows = list(csv.DictReader(io.StringIO(text)))
    labels = {row["group_label"] for row in rows} | {row["option_label"] for row in rows} | {
        row["item_text"] for row in rows}
    assert {"'" + HOSTILE[0], "'" + HOSTILE[3], "'" + HOSTILE[1], "'" + HOSTILE[2], "'" + HOSTILE[4]} <= labels
    # Number columns stay numbers (gaps and the like may be negative).
    numbers = [row[column] for row in rows for column in ("estimate", "ci_low", "ci_high", "standard_error")
               if row[column]]
    assert numbers and all(spreadsheet_csv._is_number(value) for value in numbers)
    assert all(row["respondents"] == "" or row["respondents"].isdigit() for row in rows)


def test_margins_show_and_the_other_csv_files_neutralise_formulas(app, runner):
    from survey_app.invitations import codes_csv
    from survey_app.response_import import template_csv

    survey = hostile_survey()
    margins = "variable,category,population,source\n" + "".join(
        f'district,{label},{1000 + n},"=cmd|\' /C calc\'!A0"\n'
        for n, label in enumerate(["1", "2", "East"]))
    imported = runner.invoke(args=["margins", "import", survey.slug, "-"], input=margins)
    assert imported.exit_code == 0, imported.output
    shown = runner.invoke(args=["margins", "show", survey.slug])
    assert shown.exit_code == 0
    assert formula_cells(shown.output) == []
    cells = {cell for row in csv.reader(io.StringIO(shown.output)) for cell in row}
    assert {"'" + HOSTILE[0], "'" + HOSTILE[3], "'=cmd|' /C calc'!A0", "1000"} <= cells
    assert formula_cells(codes_csv(["7KQ2M9XD4HRT"], "=HYPERLINK(1)", 1)) == []
    assert formula_cells(template_csv(survey)) == []
