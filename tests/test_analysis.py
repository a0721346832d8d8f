"""Analysis: the frame, the tables and the stored output, checked against values computed independently."""
import json
import math
import subprocess
import sys

import pandas as pd
import pytest
from sqlalchemy import text

from survey_app.analysis.charts import alt_text, bar_chart, save
from survey_app.analysis.estimates import summarise_survey
from survey_app.analysis.frame import SurveyNotFound, load_codebook, load_survey_data
from survey_app.analysis.pipeline import analyze_survey, read_results
from survey_app.cli import create_demo_survey
from survey_app.extensions import db

from .factories import add_response, make_survey

SECRET_TEXT = "Officer Jane Doe on Elm St"

# Twelve residents, written out so that every expected figure below can be counted by hand.
TRUST = [5, 4, 4, 3, -1, 2, 5, 4, 1, -1, 4, 5]
DISTRICT = [1, 1, 2, 2, 2, 3, 3, 3, 3, 1, 2, 3]
CONTACT = [1, 2, 2, -2, 1, None, 2, 2, 1, None, 2, 2]
KINDS = {0: [1], 4: [1, 3], 8: [2, 3]}
YEARS = [10, 20, None, 30, 40, 5, 15, 25, 35, 45, 50, None]
COMMENTS = {1: SECRET_TEXT, 6: "Speeding", 11: "Lighting"}


@pytest.fixture
def hand_survey(app):
    survey = make_survey()
    ids = []
    for i in range(12):
        answers = {"trust": TRUST[i], "district": DISTRICT[i]}
        if CONTACT[i] is not None:
            answers["contact"] = CONTACT[i]
        if i in KINDS:
            answers["kinds"] = KINDS[i]
        if YEARS[i] is not None:
            answers["years"] = YEARS[i]
        if i in COMMENTS:
            answers["comment"] = COMMENTS[i]
        ids.append(add_response(survey, **answers))
    survey.response_ids = ids  # random, so not in the order given: the tests look rows up by id
    return survey


def load(slug="small"):
    with db.engine.connect() as connection:
        return load_survey_data(connection, load_codebook(connection, slug))


def by_code(table):
    return {row["code"]: row for row in table}


def test_frame_has_one_row_per_response_and_typed_columns(hand_survey):
    data = load()
    frame = data.frame
    assert len(frame) == 12 and frame.index.name == "response_id"
    frame = frame.loc[hand_survey.response_ids]  # in the order the answers were given
    assert list(frame.columns) == ["trust", "district", "contact", "kinds", "years"]  # text is never loaded
    assert isinstance(frame["trust"].dtype, pd.CategoricalDtype) and frame["trust"].cat.ordered
    assert list(frame["trust"].cat.categories) == [1, 2, 3, 4, 5, -1]
    assert not frame["district"].cat.ordered
    assert frame["trust"].tolist() == TRUST
    assert frame["district"].tolist() == DISTRICT
    assert [None if pd.isna(v) else v for v in frame["contact"]] == CONTACT
    assert str(frame["kinds"].dtype) == "Int32"
    assert [None if pd.isna(v) else int(v) for v in frame["kinds"]] == [
        sum(1 << (c - 1) for c in KINDS[i]) if i in KINDS else None for i in range(12)]
    assert [None if math.isnan(v) else v for v in frame["years"]] == YEARS
    assert data.text_counts == {"comment": 3}


@pytest.mark.parametrize("stored_in_between", [0, 5, 11])
def test_answers_of_a_response_stored_after_the_responses_were_read_are_left_out(hand_survey, monkeypatch,
                                                                                 stored_in_between):
    """The answers are read after the responses, each query its own snapshot: a response stored
    in between (here: its id left out of what the responses' query gave) must not land in
    another respondent's row; everyone else's answers load as they are."""
    from survey_app.analysis import frame as frame_module

    late = hand_survey.response_ids[stored_in_between]
    read = frame_module._response_ids
    monkeypatch.setattr(frame_module, "_response_ids", lambda *a: (ids := read(*a))[ids != late])
    frame = load().frame
    assert len(frame) == 11 and late not in frame.index
    for i, response_id in enumerate(hand_survey.response_ids):
        if response_id == late:
            continue
        row = frame.loc[response_id]
        assert (row["trust"], row["district"]) == (TRUST[i], DISTRICT[i])
        assert (None if pd.isna(row["contact"]) else row["contact"]) == CONTACT[i]
        assert (None if pd.isna(row["years"]) else row["years"]) == YEARS[i]


def test_tables_equal_counts_made_by_hand(hand_survey):
    results = {q["code"]: q for q in summarise_survey(load())}

    trust = results["trust"]
    assert (trust["n_answered"], trust["n_skipped"]) == (12, 0)
    rows = by_code(trust["table"])
    assert {c: rows[c]["count"] for c in rows} == {1: 1, 2: 1, 3: 1, 4: 4, 5: 3, -1: 2}
    assert rows[4]["unweighted_percent"] == pytest.approx(100 * 4 / 12)
    assert rows[4]["unweighted_valid_percent"] == pytest.approx(40.0)  # 4 of the 10 substantive answers
    assert rows[-1]["missing_code"] and rows[-1]["unweighted_valid_percent"] is None
    assert rows[-1]["unweighted_percent"] == pytest.approx(100 * 2 / 12)
    assert trust["summary"] == {
        "n_valid": 10, "n_dont_know": 2, "n_prefer_not_to_say": 0,
        "unweighted_mean": pytest.approx(3.7),  # (1 + 2 + 3 + 4*4 + 5*3) / 10
        "unweighted_percent_agree": pytest.approx(70.0),  # (4 + 3) / 10
    }

    district = by_code(results["district"]["table"])
    assert [district[c]["count"] for c in (1, 2, 3)] == [3, 4, 5]
    assert district[3]["unweighted_percent"] == pytest.approx(100 * 5 / 12)

    contact = results["contact"]
    assert (contact["n_answered"], contact["n_skipped"]) == (10, 2)
    rows = by_code(contact["table"])
    assert [rows[c]["count"] for c in (1, 2, -2)] == [3, 6, 1]
    assert [rows[c]["unweighted_percent"] for c in (1, 2, -2)] == pytest.approx([30.0, 60.0, 10.0])
    assert rows[1]["unweighted_valid_percent"] == pytest.approx(100 * 3 / 9)
    assert rows[-2]["unweighted_valid_percent"] is None

    kinds = results["kinds"]
    assert (kinds["n_answered"], kinds["n_skipped"]) == (3, 9)
    rows = by_code(kinds["table"])
    assert [rows[c]["count"] for c in (1, 2, 3)] == [2, 1, 2]
    assert [rows[c]["unweighted_percent"] for c in (1, 2, 3)] == pytest.approx([200 / 3, 100 / 3, 200 / 3])

    years = results["years"]["summary"]
    assert years["n_valid"] == 10
    assert years["unweighted_mean"] == pytest.approx(27.5)
    assert years["unweighted_median"] == pytest.approx(27.5)
    assert (years["min"], years["max"]) == (5, 50)
    assert years["unweighted_q1"] == pytest.approx(16.25)  # position 0.25 * 9 = 2.25 between 15 and 20
    assert years["unweighted_q3"] == pytest.approx(38.75)  # position 6.75 between 35 and 40
    assert years["unweighted_sd"] == pytest.approx(math.sqrt(2062.5 / 9))

    assert results["comment"]["n_answered"] == 3 and results["comment"]["table"] == []


def test_tables_equal_sql_counts_on_generated_data(app):
    """A second method: the database's own GROUP BY over the stored answers."""
    survey = create_demo_survey(responses=600, seed=11)
    with db.engine.connect() as connection:
        codebook = load_codebook(connection, survey.slug)
        results = {q["code"]: q for q in summarise_survey(load_survey_data(connection, codebook))}
        for question in codebook.questions:
            result = results[question.code]
            if question.kind in ("categorical", "ordinal"):
                expected = dict(connection.execute(
                    text("SELECT value, COUNT(*) FROM answer WHERE question_id = :q GROUP BY value"),
                    {"q": question.id}).all())
                got = {row["code"]: row["count"] for row in result["table"] if row["count"]}
                assert got == expected, question.code
            elif question.kind == "multi":
                for row in result["table"]:
                    expected = connection.execute(
                        text("SELECT COUNT(*) FROM answer WHERE question_id = :q AND (value & :bit) <> 0"),
                        {"q": question.id, "bit": 1 << (row["code"] - 1)}).scalar()
                    assert row["count"] == expected, (question.code, row["code"])
            elif question.kind == "numeric":
                count, mean = connection.execute(
                    text("SELECT COUNT(number), AVG(number) FROM answer WHERE question_id = :q"),
                    {"q": question.id}).one()
                assert result["summary"]["n_valid"] == count
                assert result["summary"]["unweighted_mean"] == pytest.approx(float(mean), rel=1e-12)
            if question.kind == "ordinal":
                mean = connection.execute(
                    text("SELECT AVG(value * 1.0) FROM answer WHERE question_id = :q AND value > 0"),
                    {"q": question.id}).scalar()
                assert result["summary"]["unweighted_mean"] == pytest.approx(float(mean), rel=1e-12)
            answered = connection.execute(
                text("SELECT COUNT(*) FROM answer WHERE question_id = :q"), {"q": question.id}).scalar()
            assert result["n_answered"] == answered, question.code
            assert result["n_answered"] + result["n_skipped"] == 600


COUNT_KEYS = {"count", "n", "n_valid", "n_answered", "n_skipped", "n_dont_know", "n_prefer_not_to_say",
              "n_first", "n_second", "n_alpha"}


def small_counts(node, k, path="results"):
    """Every published count of 1 to k - 1 anywhere in a results document, with where it is."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in COUNT_KEYS and isinstance(value, int) and 1 <= value < k:
                found.append((f"{path}.{key}", value))
            found += small_counts(value, k, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += small_counts(value, k, f"{path}[{i}]")
    return found


def test_pipeline_publishes_no_small_count(hand_survey, app, tmp_path):
    # Twelve responses and k = 10: almost every cell is small, and none may be published.
    with db.engine.connect() as connection:
        run = analyze_survey(connection, "small", tmp_path)
    stored = read_results(tmp_path, "small")
    assert not stored["suppressed"]
    assert small_counts(stored, 10) == []
    trust = next(q for q in stored["questions"] if q["code"] == "trust")
    assert all(r["count"] is None for r in trust["table"] if r["code"] in (1, 2, 3, 5))
    assert "chart" not in trust  # every figure is hidden: there is nothing to chart
    assert run.results["weighted"] is False


def test_pipeline_writes_results_and_charts_without_free_text(hand_survey, app, tmp_path):
    hand_survey.min_cell_size = 1  # no suppression, so that every figure can be checked by hand
    db.session.commit()
    with db.engine.connect() as connection:
        run = analyze_survey(connection, "small", tmp_path)
    assert set(run.timings) == {"load", "compute", "trends", "charts", "write"}
    stored = read_results(tmp_path, "small")
    assert stored == json.loads(json.dumps(run.results))
    assert stored["n_responses"] == 12 and not stored["suppressed"] and not stored["weighted"]
    questions = {q["code"]: q for q in stored["questions"]}
    for code in ("trust", "district", "contact", "kinds", "years"):
        chart = questions[code]["chart"]
        png = (tmp_path / "small" / "charts" / chart["png"]).read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        svg = (tmp_path / "small" / "charts" / chart["svg"]).read_text()
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "chart" not in questions["comment"]
    # Ten substantive answers (two said "don't know"), three of them "strongly agree".
    assert questions["trust"]["chart_alt"].startswith("Bar chart of 10 answers to “I trust the police.”")
    assert "Strongly agree 30% (95% CI" in questions["trust"]["chart_alt"]
    # No written answer leaves the database, in any file.
    for path in (tmp_path / "small").rglob("*"):
        if path.is_file():
            assert SECRET_TEXT.encode() not in path.read_bytes(), path
            assert b"Speeding" not in path.read_bytes(), path


def test_rerun_replaces_output_and_leaves_no_temporary_folders(hand_survey, app, tmp_path):
    with db.engine.connect() as connection:
        analyze_survey(connection, "small", tmp_path)
        add_response(hand_survey, trust=1, district=1)
        analyze_survey(connection, "small", tmp_path)
    assert read_results(tmp_path, "small")["n_responses"] == 13
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small"]


def test_too_few_responses_publish_no_figures(app, tmp_path):
    survey = make_survey()
    for _ in range(9):  # one fewer than the minimum cell size of 10
        add_response(survey, trust=5, district=1, comment=SECRET_TEXT)
    with db.engine.connect() as connection:
        run = analyze_survey(connection, "small", tmp_path)
    assert run.results["suppressed"] and run.results["questions"] == []
    assert not (tmp_path / "small" / "charts").exists()


def test_unknown_survey_is_reported(app, tmp_path):
    with db.engine.connect() as connection, pytest.raises(SurveyNotFound):
        analyze_survey(connection, "nope", tmp_path)


def test_results_reader_refuses_paths_outside_its_folder(tmp_path):
    (tmp_path / "results.json").write_text("{}")
    assert read_results(tmp_path / "sub", "..") is None
    assert read_results(tmp_path, "../x") is None


def test_same_input_gives_byte_identical_svg(tmp_path):
    rows = [{"statistic": "percent", "option": 1, "estimate": 66.7, "lci": 50.1, "uci": 80.2, "n": 30},
            {"statistic": "percent", "option": 2, "estimate": None, "lci": None, "uci": None, "n": 30}]
    question = {"code": "q", "text": "A question?", "type": "single_choice", "kind": "categorical",
                "labels": {"1": "Yes", "2": "No"},
                "estimates": {"overall": rows, "breakdowns": []}}
    first = save(bar_chart(question), tmp_path / "a", "q")
    second = save(bar_chart(question), tmp_path / "b", "q")
    assert (tmp_path / "a" / first["svg"]).read_bytes() == (tmp_path / "b" / second["svg"]).read_bytes()
    assert alt_text(question) == ("Bar chart of 30 answers to “A question?”: Yes 67% (95% CI 50% to 80%); "
                                  "No not shown (withheld to protect privacy).")


def test_analysis_package_does_not_import_flask():
    code = (
        "import sys, survey_app.analysis.pipeline, survey_app.synthetic\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'flask_sqlalchemy', 'flask_wtf', 'flask_migrate', 'wtforms'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_survey_without_responses_loads_and_publishes_nothing(app, tmp_path):
    make_survey()
    data = load()
    assert data.n_responses == 0 and list(data.frame.columns) == ["trust", "district", "contact", "kinds", "years"]
    with db.engine.connect() as connection:
        run = analyze_survey(connection, "small", tmp_path)
    assert run.results["suppressed"] and run.results["n_responses"] == 0


def test_frame_equals_a_row_by_row_load(app):
    """The aggregated-string loader against the plainest possible one: every answer row, one by one."""
    survey = create_demo_survey(responses=300, seed=8)
    data = load(survey.slug)
    with db.engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT a.response_id, q.code, a.value, a.number FROM answer a JOIN question q ON q.id = a.question_id "
            "WHERE q.survey_id = :sid AND q.type != 'text'"), {"sid": survey.id}).all()
        ids = sorted(r[0] for r in connection.execute(text("SELECT id FROM response WHERE survey_id = :s"),
                                                      {"s": survey.id}))
    assert list(data.frame.index) == ids
    expected = {(r.response_id, r.code): (r.value if r.value is not None else r.number) for r in rows}
    got = {}
    for code in data.frame.columns:
        for response_id, value in data.frame[code].items():
            if not pd.isna(value):
                got[(response_id, code)] = float(value)
    assert got == {key: float(value) for key, value in expected.items()}
