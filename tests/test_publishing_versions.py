"""The differencing rule between published versions (issue 18, item 1): no set of public versions,
withdrawn ones included, lets anyone work out a count of 1 to k - 1 respondents.

The attack is replayed as it was found: over HTTP against gunicorn, staff analyse and publish,
responses come in, and the attacker downloads every version's data.csv and subtracts.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import itertools

import numpy as np
import pytest
from scipy.optimize import linprog
from sqlalchemy import select

from survey_app import publishing
from survey_app.analysis.frame import load_codebook, load_survey_data
from survey_app.analysis.pipeline import analyze_survey, build_results, read_results
from survey_app.extensions import db
from survey_app.models import Response, Snapshot, SurveySeries
from survey_app.results.routes import snapshot_results

from .factories import add_response, make_survey
from .http_browser import Browser
from .staff_helpers import PASSWORD, finished_job_page, make_user

K = 10


def first_forty(survey) -> None:
    """40 respondents, 1 to 40: every published figure of version 1 rests on 10 or more."""
    for i in range(40):
        add_response(survey, trust=[5, 4, 2, 3][i % 4], district=1 + i % 2, contact=1 + i % 2,
                     kinds=[1 + i % 2], years=10 + i % 7)


def newcomer(survey, trust: int = 1, contact: int = 2, kinds=(2,)) -> None:
    add_response(survey, trust=trust, district=3, contact=contact, kinds=list(kinds), years=30)


def analyse(app, survey) -> dict:
    with db.engine.connect() as connection:
        return analyze_survey(connection, survey.slug, app.config["GENERATED_DIR"]).results


def read_csv(body: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"))))


def published_counts(rows: list[dict]) -> dict:
    """What an attacker reads off data.csv: per figure, its count (percent x respondents, exact
    for an unweighted survey) and its respondents."""
    out = {}
    for row in rows:
        if row["suppressed"] == "true":
            continue
        key = (row["item_code"], row["statistic"], row["group_variable"], row["group_code"], row["option_code"])
        if not row["respondents"]:  # a group whose n is withheld: nothing to multiply by
            continue
        respondents = int(row["respondents"])
        count = round(float(row["estimate"]) * respondents / 100) if row["statistic"].startswith("percent") else None
        out[key] = (count, respondents)
    return out


def subtraction(old: dict, new: dict) -> list[tuple]:
    """The attacker's subtraction: every figure published in both whose count or respondents moved
    by 1 to K - 1."""
    found = []
    for key in old.keys() & new.keys():
        for before, after in zip(old[key], new[key]):
            if before is not None and 1 <= abs(after - before) < K:
                found.append((key, before, after))
    return found


def lp_audit_of_trust_by_district(old_rows: list[dict], new_rows: list[dict]) -> list[str]:
    """Independent audit of one table over both files: LP over both versions' cells (districts
    1-3 and no district, by the five points of the scale), the published figures as equations,
    new >= old cell by cell (responses were only added); every change of a cell, district n,
    top-two count, overall count and item n that has one possible value must not be 1 to K - 1."""
    options, groups = [1, 2, 3, 4, 5], ["1", "2", "3"]
    shape = (len(groups) + 1, len(options))
    size = shape[0] * shape[1]

    def equations(rows, block):
        a, b = [], []

        def add(mask, value):
            row = np.zeros(2 * size)
            row[block * size:(block + 1) * size] = mask.ravel()
            a.append(row)
            b.append(value)

        for row in rows:
            if row["item_code"] != "trust" or row["suppressed"] == "true":
                continue
            if row["group_variable"] not in ("", "district"):
                continue
            mask = np.zeros(shape, bool)
            rows_of = [groups.index(row["group_code"])] if row["group_variable"] else list(range(shape[0]))
            if not row["respondents"]:
                continue
            respondents = int(row["respondents"])
            every = mask.copy()
            every[rows_of, :] = True
            add(every, respondents)  # the group's n (or the item's)
            if row["statistic"] == "percent":
                mask[rows_of, options.index(int(row["option_code"]))] = True
                add(mask, round(float(row["estimate"]) * respondents / 100))
            elif row["statistic"] == "percent_agree":
                mask[np.ix_(rows_of, [3, 4])] = True
                add(mask, round(float(row["estimate"]) * respondents / 100))
        return a, b

    a1, b1 = equations(old_rows, 0)
    a2, b2 = equations(new_rows, 1)
    a_ub = np.hstack([np.eye(size), -np.eye(size)])  # old - new <= 0
    kwargs = dict(A_eq=np.array(a1 + a2), b_eq=np.array(b1 + b2, float), A_ub=a_ub, b_ub=np.zeros(size),
                  bounds=(0, None))
    targets = {}
    for g, o in itertools.product(range(shape[0]), range(shape[1])):
        mask = np.zeros(shape, bool)
        mask[g, o] = True
        targets[f"cell {g},{o}"] = mask
    for g in range(shape[0]):
        mask = np.zeros(shape, bool)
        mask[g] = True
        targets[f"group {g}"] = mask
        top = np.zeros(shape, bool)
        top[g, [3, 4]] = True
        targets[f"top {g}"] = top
    for o in range(shape[1]):
        mask = np.zeros(shape, bool)
        mask[:, o] = True
        targets[f"overall {o}"] = mask
    targets["n"] = np.ones(shape, bool)
    found = []
    for name, mask in targets.items():
        objective = np.concatenate([-mask.ravel().astype(float), mask.ravel().astype(float)])
        low, high = linprog(objective, **kwargs), linprog(-objective, **kwargs)
        assert low.status == 0 and high.status in (0, 3)
        if high.status == 0 and -high.fun - low.fun < 0.5 and 1 <= abs(round(low.fun)) < K:
            found.append(f"{name}: {round(low.fun)}")
    return found


def sign_in_staff(server) -> Browser:
    staff = Browser(server.base_url)
    token = staff.get("/staff/login").csrf_token()
    signed = staff.post("/staff/login", {"email": "analyst@city.example", "password": PASSWORD, "csrf_token": token})
    assert signed.status in (302, 303) and "/login" not in signed.location, (signed.status, signed.location)
    return staff


def analyse_over_http(staff: Browser, survey_id: int) -> None:
    """The staff button: the analysis runs as a background job (the test's ``job_worker``)."""
    reply = staff.submit(f"/staff/surveys/{survey_id}/analyze", {}, token_from=f"/staff/surveys/{survey_id}/weighting")
    assert reply.status == 303, reply.text[:500]
    _, outcome = finished_job_page(staff, reply.location)
    assert "Analysed" in outcome.text, outcome.text[:2000]


def publish_over_http(staff: Browser, survey_id: int) -> str:
    """The staff button: publishing runs as a background job; the text of its finished page."""
    reply = staff.submit(f"/staff/surveys/{survey_id}/results/publish", {},
                         token_from=f"/staff/surveys/{survey_id}/weighting")
    assert reply.status == 303, reply.text[:500]
    _, outcome = finished_job_page(staff, reply.location)
    return outcome.text


def test_two_versions_over_gunicorn_give_nobody_away(real_server, job_worker, app):
    survey = make_survey()
    first_forty(survey)
    make_user("analyst")
    staff = sign_in_staff(real_server)
    analyse_over_http(staff, survey.id)
    assert "Published version 1." in publish_over_http(staff, survey.id)
    public = Browser(real_server.base_url)
    v1 = public.get("/results/small/v1/data.csv")
    assert v1.status == 200

    # The reproduction: one more response, analysed and published as v2. Refused, with how many
    # more responses are needed, on the staff page before the button and when posted anyway.
    newcomer(survey)
    analyse_over_http(staff, survey.id)
    page = staff.get(f"/staff/surveys/{survey.id}/results").text
    assert "41 responses and version 1 with 40 was published" in page
    assert "Collect at least 9 more responses (50 in all)" in page
    assert "Publish as version 2" not in page
    refused = publish_over_http(staff, survey.id)
    assert "The results were not published" in refused and "Collect at least 9 more responses" in refused
    assert public.get("/results/small/v2").status == 404
    assert public.get("/results/small/v2/data.csv").status == 404

    # Nine more arrive (the tenth newcomer agrees, like the other eight): N moves by 10 and v2 is
    # published, with the changes of fewer than 10 hidden.
    for _ in range(9):
        newcomer(survey, trust=4, contact=1, kinds=(1,))
    analyse_over_http(staff, survey.id)
    page = staff.get(f"/staff/surveys/{survey.id}/results").text
    assert "Publish as version 2" in page and "version 1 hid" in page and "Publishing again after only a few" in page
    assert "Published version 2." in publish_over_http(staff, survey.id)
    v2 = public.get("/results/small/v2/data.csv")
    assert v2.status == 200

    # The attacker's subtraction finds no figure that moved by 1 to 9 ...
    old, new = published_counts(read_csv(v1.body)), published_counts(read_csv(v2.body))
    assert subtraction(old, new) == []
    # ... while the figures that moved by 10 are there to see (the rule hides only what it must).
    assert new[("district", "percent", "", "", "3")][0] - old[("district", "percent", "", "", "3")][0] == 10
    # ... and linear programming over both files pins no small change down either.
    assert lp_audit_of_trust_by_district(read_csv(v1.body), read_csv(v2.body)) == []

    # Withdrawing v2 does not undo that it was public: one more response is still refused.
    db.session.expire_all()
    snapshot = db.session.scalar(select(Snapshot).where(Snapshot.survey_id == survey.id, Snapshot.version == 2))
    publishing.withdraw(snapshot, "Withdrawn for a test.")
    newcomer(survey)
    analyse_over_http(staff, survey.id)
    assert "Collect at least 9 more responses (60 in all)" in staff.get(f"/staff/surveys/{survey.id}/results").text


def test_without_the_rule_the_subtraction_would_succeed(app):
    # The check above could fail: the same data, v2 analysed as if nothing had been published,
    # gives the newcomers away to the same subtraction.
    survey = make_survey()
    first_forty(survey)
    v1 = publishing.open_data_csv(analyse(app, survey), 1)
    newcomer(survey)
    for _ in range(9):
        newcomer(survey, trust=4, contact=1, kinds=(1,))
    v2 = publishing.open_data_csv(analyse(app, survey), 2)  # nothing published: no rule applies
    assert subtraction(published_counts(read_csv(v1)), published_counts(read_csv(v2)))


def test_flask_publish_refuses_with_the_same_message_and_a_non_zero_exit(app, runner):
    survey = make_survey()
    first_forty(survey)
    assert runner.invoke(args=["analyze", "small"]).exit_code == 0
    assert runner.invoke(args=["publish", "small"]).exit_code == 0
    newcomer(survey)
    analysed = runner.invoke(args=["analyze", "small"])
    assert analysed.exit_code == 0 and "9 more responses are needed" in analysed.output
    result = runner.invoke(args=["publish", "small"])
    assert result.exit_code == 1
    assert "Collect at least 9 more responses (50 in all)" in result.output
    assert db.session.scalars(select(Snapshot).where(Snapshot.survey_id == survey.id)).all()[-1].version == 1


def test_a_removed_response_counts_as_a_change(app):
    survey = make_survey()
    first_forty(survey)
    analyse(app, survey)
    publishing.publish(survey, app.config["GENERATED_DIR"])
    db.session.delete(db.session.scalars(select(Response).where(Response.survey_id == survey.id)).first())
    db.session.commit()
    results = analyse(app, survey)
    # 39 is within 9 of 40; 40 again is allowed (the tables then hide what moved by fewer than 10).
    assert results["n_responses"] == 39 and results["differencing"]["responses_needed"] == 1
    with pytest.raises(publishing.PublishError, match=r"Collect at least 1 more response \(40 in all\)"):
        publishing.publish(survey, app.config["GENERATED_DIR"])
    # One new response in place of the removed one: published, and nothing moved by 1 to 9 shows.
    newcomer(survey, trust=4, contact=1, kinds=(1,))
    analyse(app, survey)
    snapshot = publishing.publish(survey, app.config["GENERATED_DIR"])
    folder = publishing.snapshot_dir(app.config["GENERATED_DIR"], snapshot)
    v1 = read_csv((folder.parent / "v1" / publishing.DATA_CSV).read_bytes())
    v2 = read_csv((folder / publishing.DATA_CSV).read_bytes())
    assert subtraction(published_counts(v1), published_counts(v2)) == []


def test_a_version_published_since_the_analysis_is_checked_first(app):
    survey = make_survey()
    first_forty(survey)
    analyse(app, survey)
    draft_without_versions = read_results(app.config["GENERATED_DIR"], survey.slug)
    first = publishing.publish(survey, app.config["GENERATED_DIR"])
    # The same draft again, while version 1 is public, would add an identical version: refused ...
    with pytest.raises(publishing.PublishError, match="This analysis is public already, as version 1"):
        publishing.publish(survey, app.config["GENERATED_DIR"])
    # ... but once version 1 is withdrawn, it may come back as version 2 (nothing new in it) ...
    publishing.withdraw(first, "Withdrawn by mistake.")
    assert publishing.publish(survey, app.config["GENERATED_DIR"]).version == 2
    # ... while an analysis made before v1 and v2 existed, and different from them, is refused.
    for _ in range(10):
        newcomer(survey)
    changed = {**draft_without_versions, "n_responses": 50}
    message = publishing.publish_refusal(survey, app.config["GENERATED_DIR"], changed)
    assert message.startswith("Versions 1 and 2 were published after this analysis was run")


def test_the_draft_is_what_gets_published_and_the_second_look_agrees(app):
    survey = make_survey()
    first_forty(survey)
    analyse(app, survey)
    publishing.publish(survey, app.config["GENERATED_DIR"])
    newcomer(survey)
    for _ in range(9):
        newcomer(survey, trust=4, contact=1, kinds=(1,))
    draft = analyse(app, survey)
    assert draft["differencing"] == {"checked_versions": [1], "responses_needed": 0, "earlier_responses": [40]}
    assert publishing.publish_refusal(survey, app.config["GENERATED_DIR"], draft) is None
    trust = next(q for q in draft["questions"] if q["code"] == "trust")
    district_3 = [r for b in trust["estimates"]["breakdowns"] if b["variable"] == "district"
                  for r in b["rows"] if r["group"] == 3]
    # District 3 is all newcomers (10): its strongly-disagree (1) and agree (9) are hidden; that
    # ten people live there is not (a change of 10).
    assert all(r["suppressed"] for r in district_3 if r["statistic"] == "percent" and r["option"] in (1, 4))
    district = next(q for q in draft["questions"] if q["code"] == "district")
    assert [r["count"] for r in district["estimates"]["overall"] if r["option"] == 3] == [10]
    snapshot = publishing.publish(survey, app.config["GENERATED_DIR"])
    assert snapshot_results(snapshot) == draft  # what the public page reads
    # The second look would catch a draft that broke the rule: one made as if v1 did not exist.
    naive = analyse_ignoring_versions(survey)
    naive["differencing"]["checked_versions"] = [1, 2]
    refusal = publishing.publish_refusal(survey, app.config["GENERATED_DIR"], naive)
    assert refusal.startswith("Not published: together with an earlier version") and "trust" in refusal


def analyse_ignoring_versions(survey) -> dict:
    with db.engine.connect() as connection:
        data = load_survey_data(connection, load_codebook(connection, survey.slug))
        return build_results(data, dt.datetime.now(dt.timezone.utc))


@pytest.mark.parametrize("seed", range(3))
def test_random_sequences_publish_and_pass_the_second_look(app, seed):
    # Versions of a survey with random answers, responses added and removed between them: the
    # analysis's own protection and publishing's second look (from the files) agree, and the
    # attacker's subtraction of any two versions' data.csv finds nothing of 1 to 9.
    rng = np.random.default_rng(seed)
    survey = make_survey()

    def add(n):
        for _ in range(n):
            add_response(survey, trust=int(rng.choice([1, 2, 3, 4, 5, -1], p=[.05, .15, .2, .35, .2, .05])),
                         district=int(rng.integers(1, 4)), contact=int(rng.choice([1, 2, -2])),
                         kinds=sorted(set(rng.integers(1, 4, size=2).tolist())), years=int(rng.integers(0, 60)))

    add(60)
    files = []
    for step in range(4):
        results = analyse(app, survey)
        if results["differencing"]["responses_needed"] == 0:
            assert publishing.publish_refusal(survey, app.config["GENERATED_DIR"], results) is None
            snapshot = publishing.publish(survey, app.config["GENERATED_DIR"])
            folder = publishing.snapshot_dir(app.config["GENERATED_DIR"], snapshot)
            files.append(published_counts(read_csv((folder / publishing.DATA_CSV).read_bytes())))
        else:
            with pytest.raises(publishing.PublishError):
                publishing.publish(survey, app.config["GENERATED_DIR"])
        ids = db.session.scalars(select(Response.id).where(Response.survey_id == survey.id)).all()
        for response_id in rng.choice(ids, size=int(rng.integers(0, 6)), replace=False):
            db.session.delete(db.session.get(Response, int(response_id)))
        db.session.commit()
        add(int(rng.choice([3, 12, 25])))
    assert len(files) >= 2
    for old, new in itertools.combinations(files, 2):
        assert subtraction(old, new) == []


def test_a_trend_shows_an_earlier_wave_as_it_was_published(app):
    # Wave 1 is published with 40 responses, then gets one more. Wave 2's trend must not show
    # wave 1 as it is now (41) beside what wave 1 published: that would be the same subtraction.
    series = SurveySeries(name="Trust series")
    db.session.add(series)
    db.session.commit()
    wave_1 = make_survey(slug="wave-1", series_id=series.id, wave=1)
    first_forty(wave_1)
    published = analyse(app, wave_1)
    publishing.publish(wave_1, app.config["GENERATED_DIR"])
    newcomer(wave_1, trust=4)
    wave_2 = make_survey(slug="wave-2", series_id=series.id, wave=2)
    first_forty(wave_2)
    results = analyse(app, wave_2)
    trust = next(t for t in results["trends"] if t["code"] == "trust")
    points = {(s["statistic"], s["option"]): s["points"][0] for s in trust["series"]}
    for row in next(q for q in published["questions"] if q["code"] == "trust")["estimates"]["overall"]:
        point = points[(row["statistic"], row["option"])]
        assert point["wave"] == 1 and (point["estimate"], point["n"]) == (row["estimate"], row["n"])
    assert points[("percent", 4)]["n"] == 40  # not 41


def test_a_version_whose_files_are_missing_stops_publishing_with_a_clear_message(app):
    import shutil

    survey = make_survey()
    first_forty(survey)
    analyse(app, survey)
    snapshot = publishing.publish(survey, app.config["GENERATED_DIR"])
    folder = publishing.snapshot_dir(app.config["GENERATED_DIR"], snapshot)
    folder.chmod(0o755)
    for path in folder.rglob("*"):
        path.chmod(0o755)
    shutil.rmtree(folder)
    for _ in range(10):
        newcomer(survey)
    results = analyse(app, survey)  # the analysis still runs
    assert results["differencing"]["checked_versions"] == []
    with pytest.raises(publishing.PublishError, match="The files of version 1 are missing"):
        publishing.publish(survey, app.config["GENERATED_DIR"])
