"""Trends across waves: changes and their CIs, by hand and through the pipeline on a two-wave series."""
import copy
import math

import pytest
from scipy import stats
from sqlalchemy import select

from survey_app import publishing
from survey_app.analysis.pipeline import analyze_survey
from survey_app.analysis.waves import trend_table
from survey_app.extensions import db
from survey_app.models import Survey, SurveySeries
from survey_app.questionnaire.definition import survey_from_definition
from survey_app.questionnaire.demo import COMMUNITY_TRUST
from survey_app.seeding import insert_synthetic_responses
from survey_app.synthetic import generate_responses


def record(estimate, se, df, statistic="percent_agree", suppressed=False):
    return {"statistic": statistic, "option": None, "estimate": None if suppressed else estimate,
            "se": None if suppressed else se, "lci": None, "uci": None, "n": df + 1, "df": df,
            "suppressed": suppressed}


def wave(number, items):
    return {"wave": number, "slug": f"w{number}", "title": f"Wave {number}", "items": items}


def item(code, overall, type_="scale", options=(1, 2, 3, 4, 5, -1)):
    return {"code": code, "text": code, "type": type_, "option_codes": list(options), "overall": overall}


def test_change_and_its_interval_by_hand():
    waves = [wave(1, [item("trust", [record(50.0, 3.0, 400)])]),
             wave(2, [item("trust", [record(56.0, 4.0, 300)])])]
    [trend] = trend_table(waves)
    [series] = trend["series"]
    [change] = series["changes"]
    # 56 - 50 = 6, SE sqrt(9 + 16) = 5, t on min(df) = 300 degrees of freedom.
    t = stats.t.ppf(0.975, 300)
    assert change["change"] == pytest.approx(6.0)
    assert change["se"] == pytest.approx(5.0)
    assert (change["lci"], change["uci"]) == (pytest.approx(6 - 5 * t), pytest.approx(6 + 5 * t))
    assert change["p_value"] == pytest.approx(2 * stats.t.sf(6 / 5, 300))
    assert change["significant"] is False
    assert [p["wave"] for p in series["points"]] == [1, 2]


def test_changed_item_or_hidden_figure_is_not_compared():
    waves = [wave(1, [item("trust", [record(50.0, 3.0, 400)], options=(1, 2, 3, 4)),
                      item("safety", [record(40.0, 2.0, 400)])]),
             wave(2, [item("trust", [record(56.0, 4.0, 300)]),
                      item("safety", [record(41.0, 2.0, 300, suppressed=True)])]),
             wave(3, [item("trust", [record(58.0, 4.0, 300)]), item("safety", [record(45.0, 2.0, 300)])])]
    trends = {t["code"]: t for t in trend_table(waves)}
    assert trends["trust"]["waves"] == [2, 3]  # wave 1 asked it on another scale
    changes = trends["safety"]["series"][0]["changes"]
    assert [c["change"] for c in changes] == [None, None]  # wave 2's figure is hidden
    assert trend_table([waves[0]]) == []


def test_series_trends_through_the_pipeline(app, tmp_path):
    series = SurveySeries(name="Community Trust")
    db.session.add(series)
    db.session.commit()
    for number, seed in ((1, 11), (2, 12)):
        definition = copy.deepcopy(COMMUNITY_TRUST)
        definition["slug"] = f"trust-wave-{number}"
        survey = survey_from_definition(definition)
        survey.status, survey.series_id, survey.wave = "closed", series.id, number
        db.session.add(survey)
        db.session.commit()
        with db.engine.begin() as connection:
            insert_synthetic_responses(connection, survey, generate_responses(survey.questions, 800, seed=seed))
    with db.engine.connect() as connection:
        first = analyze_survey(connection, "trust-wave-1", tmp_path).results
    # Another wave appears in a trend only as its newest published version shows it.
    publishing.publish(db.session.scalar(select(Survey).where(Survey.slug == "trust-wave-1")), tmp_path)
    with db.engine.connect() as connection:
        second = analyze_survey(connection, "trust-wave-2", tmp_path).results
    assert first["trends"] == []  # nothing earlier to compare with
    trends = {t["code"]: t for t in second["trends"]}
    assert "top_problem" not in trends  # free text has no trend
    for code in ("trust_overall", "index_overall_trust", "years_in_city"):
        assert trends[code]["waves"] == [1, 2]
    items = {i["code"]: i for i in first["questions"] + first["indices"]}
    later = {i["code"]: i for i in second["questions"] + second["indices"]}
    for code, statistic in (("trust_overall", "percent_agree"), ("index_overall_trust", "mean")):
        a = next(r for r in items[code]["estimates"]["overall"] if r["statistic"] == statistic)
        b = next(r for r in later[code]["estimates"]["overall"] if r["statistic"] == statistic)
        series_ = next(s for s in trends[code]["series"] if s["statistic"] == statistic)
        [change] = series_["changes"]
        assert change["change"] == pytest.approx(b["estimate"] - a["estimate"], rel=1e-12)
        assert change["se"] == pytest.approx(math.hypot(a["se"], b["se"]), rel=1e-12)
