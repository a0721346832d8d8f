"""Trends across waves and the differencing rule (issue 18, item 1): a trend shows another wave only
as that wave's newest published (not withdrawn) version shows it, never recomputed from its
responses, so that no two public documents let anyone subtract a few of that wave's respondents.
"""
from __future__ import annotations

import pytest

from survey_app import publishing
from survey_app.analysis.differencing import TREND_FIELDS
from survey_app.extensions import db
from survey_app.models import SurveySeries
from survey_app.results.routes import snapshot_results

from .factories import make_survey
from .test_publishing_versions import analyse, first_forty, newcomer


@pytest.fixture
def waves(app):
    """Two waves of a series with 40 responses each, nothing published."""
    series = SurveySeries(name="Trust series")
    db.session.add(series)
    db.session.commit()
    wave_1 = make_survey(slug="wave-1", series_id=series.id, wave=1)
    wave_2 = make_survey(slug="wave-2", series_id=series.id, wave=2)
    first_forty(wave_1)
    first_forty(wave_2)
    return wave_1, wave_2


def wave_points(results: dict, wave: int) -> dict:
    """The trend points of one wave, by (item, statistic, option)."""
    return {(t["code"], s["statistic"], s["option"]): p for t in results["trends"] for s in t["series"]
            for p in s["points"] if p["wave"] == wave}


def published_records(document: dict) -> dict:
    return {(i["code"], r["statistic"], r["option"]): r for i in document["questions"] + document["indices"]
            if "estimates" in i for r in i["estimates"]["overall"]}


def test_a_wave_with_no_published_version_is_left_out(app, waves):
    wave_1, wave_2 = waves
    analyse(app, wave_1)  # analysed (a draft), never published
    results = analyse(app, wave_2)
    assert results["trends"] == []


def test_a_wave_is_shown_as_its_published_version_showed_it(app, waves):
    wave_1, wave_2 = waves
    for _ in range(3):
        newcomer(wave_1, trust=1)  # 43: the three who strongly disagree are a hidden cell
    analyse(app, wave_1)
    v1 = snapshot_results(publishing.publish(wave_1, app.config["GENERATED_DIR"]))
    newcomer(wave_1, trust=4)  # 44 now: showing it beside v1 would give this one person away
    results = analyse(app, wave_2)
    points = wave_points(results, 1)
    records = published_records(v1)
    assert points and set(points) <= set(records)
    for key, point in points.items():
        assert {f: point[f] for f in TREND_FIELDS} == {f: records[key].get(f) for f in TREND_FIELDS}, key
    assert points[("trust", "percent", 4)]["n"] == 43  # never 44
    assert points[("trust", "percent", 1)]["suppressed"] and points[("trust", "percent", 1)]["estimate"] is None
    # Wave 2 publishes that trend; its data is wave 1's v1 and wave 2's own.
    assert publishing.publish_refusal(wave_2, app.config["GENERATED_DIR"], results) is None
    publishing.publish(wave_2, app.config["GENERATED_DIR"])


def test_a_withdrawn_wave_is_left_out(app, waves):
    wave_1, wave_2 = waves
    analyse(app, wave_1)
    snapshot = publishing.publish(wave_1, app.config["GENERATED_DIR"])
    publishing.withdraw(snapshot, "Withdrawn: a data entry error.")
    results = analyse(app, wave_2)
    assert results["trends"] == []


def test_a_wave_withdrawn_or_republished_after_the_analysis_stops_publishing(app, waves):
    wave_1, wave_2 = waves
    analyse(app, wave_1)
    snapshot = publishing.publish(wave_1, app.config["GENERATED_DIR"])
    results = analyse(app, wave_2)
    assert wave_points(results, 1)
    publishing.withdraw(snapshot, "Withdrawn: a data entry error.")
    with pytest.raises(publishing.PublishError, match="the trends show wave 1 otherwise"):
        publishing.publish(wave_2, app.config["GENERATED_DIR"])
    assert analyse(app, wave_2)["trends"] == []  # run again: wave 1 left out, and it publishes
    publishing.publish(wave_2, app.config["GENERATED_DIR"])

    # Wave 1 published again with 50: a trend made against the earlier version is refused too.
    for _ in range(10):
        newcomer(wave_1, trust=4)
    analyse(app, wave_1)
    publishing.publish(wave_1, app.config["GENERATED_DIR"])
    assert analyse(app, wave_2)["trends"]
    for _ in range(10):
        newcomer(wave_1, trust=5)
    analyse(app, wave_1)
    publishing.publish(wave_1, app.config["GENERATED_DIR"])  # v3 with 60
    stale = publishing.read_results(app.config["GENERATED_DIR"], wave_2.slug)
    assert "wave 1" in publishing.publish_refusal(wave_2, app.config["GENERATED_DIR"], stale)
    fresh = analyse(app, wave_2)
    assert wave_points(fresh, 1)[("trust", "percent", 5)]["n"] == 60
    assert publishing.publish_refusal(wave_2, app.config["GENERATED_DIR"], fresh) is None
