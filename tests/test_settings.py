"""One rule for each survey setting, whichever way it comes in (questionnaire/settings.py).

The test walks every setting in ``settings.SETTINGS`` and every way a setting reaches a survey
(the designer's settings form, the new-survey form, the weighting page, a JSON definition,
the CLI, a backup import) and proves that each way accepts exactly what the rule accepts, and
stores what the rule makes of it.
"""
from __future__ import annotations

import copy
import datetime as dt
import io
import itertools
import json
import math

import pytest

from survey_app.backup import RestoreError, export_lines, import_survey
from survey_app.extensions import db
from survey_app.models import Survey
from survey_app.questionnaire import settings
from survey_app.questionnaire.definition import DefinitionError, survey_from_definition

from .factories import SMALL_SURVEY, make_survey
from .staff_helpers import make_user, post, sign_in

# Values to try for each setting: good ones, bad ones and the edges between them, as a person
# would type them (text) or a file would hold them (JSON values).
SAMPLES = {
    "slug": ["trust-2027", "a", "a" * 80, "a" * 81, "Trust 2027", "", "trust_2027", "-", 7],
    "title": ["Trust in policing", "x" * 200, "x" * 201, "", "   ", None, 12],
    "introduction": ["", "Welcome.", "x" * 10_000, "x" * 10_001, None, 3],
    "consent_text": ["", "I agree.", "x" * 10_000, "x" * 10_001],
    "thank_you_text": ["", "Thanks.", "x" * 10_000, "x" * 10_001],
    "min_cell_size": [1, 2, 3, 10, 1000, 1001, 0, -5, "10", "ten", "", 10.5, True, None, "99999999999999999999"],
    "weight_trim": ["", "off", "0", 0, 1, "1", 1.000001, "1.5", 5, 100, "100.5", "nan", "inf", "-inf", "-3",
                    "five", None, float("nan"), float("inf"), True],
    "access_mode": ["open", "invitation", "closed", "", None],
    "default_language": ["en", "es", "fr", "", None],
    "status": ["draft", "open", "closed", "archived", "", None],
    "opens_at": ["", None, "2027-03-01", "2027-03-01 09:00", "2027-03-01T09:00:00+00:00", "tomorrow",
                 "1900-01-01", "2027-13-01", 20270301],
    "closes_at": ["", "2027-04-01", "2027-04-01 17:30", "31/04/2027", "9999-01-01"],
    "wave": [1, 2, "3", 0, -1, "two", None],
}


def rule(name, value):
    """(accepted, stored value) by the rule itself."""
    try:
        return True, settings.check(name, value)
    except settings.SettingRefused:
        return False, None


def as_typed(value) -> str:
    """What a person would type into a form field or a command line for ``value``."""
    return "" if value is None else str(value)


_numbers = itertools.count(1)


def fresh_slug(way: str) -> str:
    return f"{way}-{next(_numbers)}"


def same(a, b) -> bool:
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):  # SQLite hands back naive UTC
        a, b = (m if m.tzinfo else m.replace(tzinfo=dt.timezone.utc) for m in (a, b))
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b


# --- The ways in ---------------------------------------------------------------------------------
# Each takes (client, runner, name, value) and returns (accepted, the value stored on the survey).

SETTINGS_FORM_FIELDS = ("title", "introduction", "consent_text", "thank_you_text", "opens_at", "closes_at",
                        "min_cell_size", "access_mode")


def by_settings_form(client, runner, name, value):
    survey = make_survey(status="draft", slug=fresh_slug("form"))
    data = {"title": "Trust", "introduction": "", "consent_text": "", "thank_you_text": "", "opens_at": "",
            "closes_at": "", "min_cell_size": "10", "access_mode": "open", name: as_typed(value)}
    response = post(client, f"/staff/surveys/{survey.id}/settings", data)
    assert response.status_code in (303, 422), response.status_code
    db.session.expire_all()
    stored = db.session.get(Survey, survey.id)
    return response.status_code == 303, getattr(stored, name)


def by_new_survey_form(client, runner, name, value):
    slug = fresh_slug("new")
    data = {"title": f"Trust {slug}", "slug": slug, name: as_typed(value)}  # titles are unique too
    response = post(client, "/staff/surveys/new", data)
    assert response.status_code in (303, 422), response.status_code
    stored = db.session.scalar(db.select(Survey).where(Survey.slug == data["slug"]))
    return stored is not None, getattr(stored, name) if stored is not None else None


def by_weighting_page(client, runner, name, value):
    survey = make_survey(slug=fresh_slug("weights"))
    response = post(client, f"/staff/surveys/{survey.id}/weighting", {"trim": as_typed(value)})
    assert response.status_code in (303, 422), response.status_code
    db.session.expire_all()
    return response.status_code == 303, db.session.get(Survey, survey.id).weight_trim


def by_json_definition(client, runner, name, value):
    definition = copy.deepcopy(SMALL_SURVEY)
    definition[name] = value
    try:
        survey = survey_from_definition(definition)
    except DefinitionError as error:
        assert error.path == name
        return False, None
    return True, getattr(survey, name)


def by_cli(client, runner, name, value):
    survey = make_survey(slug=fresh_slug("cli"))
    if name == "min_cell_size":
        args = ["min-cell-size", survey.slug, as_typed(value)]
    else:
        args = ["margins", "trim", survey.slug, as_typed(value)]
    result = runner.invoke(args=args)
    db.session.expire_all()
    return result.exit_code == 0, getattr(db.session.get(Survey, survey.id), name)


def by_backup(client, runner, name, value):
    survey = make_survey(slug="to-restore")
    lines = list(export_lines(survey))
    db.session.delete(survey)
    db.session.commit()
    header = json.loads(lines[0])
    if name in header["definition"]:
        header["definition"][name] = value
    else:
        header[name] = value
    if name in ("opens_at", "closes_at"):  # the other end of the window out of the way
        header["closes_at" if name == "opens_at" else "opens_at"] = None
    lines[0] = json.dumps(header)
    try:
        restored, _ = import_survey(io.StringIO("\n".join(lines) + "\n"))
    except RestoreError as error:
        assert "line 1" in str(error) and name in str(error)
        return False, None
    stored = getattr(restored, name)
    db.session.delete(restored)
    db.session.commit()
    return True, stored


WAYS = {
    "settings form": (SETTINGS_FORM_FIELDS, by_settings_form),
    "new survey form": (("title", "slug"), by_new_survey_form),
    "weighting page": (("weight_trim",), by_weighting_page),
    "JSON definition": (("slug", "title", "introduction", "consent_text", "thank_you_text", "min_cell_size"),
                        by_json_definition),
    "CLI": (("min_cell_size", "weight_trim"), by_cli),
    "backup import": (("title", "min_cell_size", "status", "opens_at", "closes_at", "access_mode",
                       "default_language", "weight_trim", "wave"), by_backup),
}

# Values a way cannot carry at all (a form field or a command line holds text, not JSON types).
TEXT_ONLY = {"settings form", "new survey form", "weighting page", "CLI"}


def test_every_setting_has_samples_and_at_least_one_way_in():
    assert set(SAMPLES) == set(settings.SETTINGS)
    carried = {name for names, _ in WAYS.values() for name in names}
    assert carried == set(settings.SETTINGS)
    for name, values in SAMPLES.items():
        verdicts = {rule(name, v)[0] for v in values}
        assert verdicts == {True, False}, f"{name}: the samples must include accepted and refused values"


@pytest.mark.parametrize("way", list(WAYS))
def test_every_way_in_applies_the_settings_rule(way, app, client, runner):
    make_user("admin")
    sign_in(client, "admin@city.example")
    names, enter = WAYS[way]
    disagreements = []
    for name in names:
        for value in SAMPLES[name]:
            if way in TEXT_ONLY and value is not None and not isinstance(value, (str, int, float)):
                continue
            expected = rule(name, as_typed(value) if way in TEXT_ONLY else value)
            accepted, stored = enter(client, runner, name, value)
            if accepted != expected[0] or (accepted and not same(stored, expected[1])):
                disagreements.append((name, value, (accepted, stored), expected))
    assert not disagreements, disagreements


def test_the_reproduction_a_json_import_with_a_minimum_cell_size_of_1_is_refused(app):
    definition = copy.deepcopy(SMALL_SURVEY)
    definition["min_cell_size"] = 1
    with pytest.raises(DefinitionError) as refused:
        survey_from_definition(definition)
    assert refused.value.path == "min_cell_size"
    assert "from 3 to 1000" in refused.value.message


def test_a_window_that_closes_before_it_opens_is_refused_by_the_form_and_the_backup(app, client):
    make_user("admin")
    sign_in(client, "admin@city.example")
    survey = make_survey(status="draft")
    response = post(client, f"/staff/surveys/{survey.id}/settings", {
        "title": "Trust", "min_cell_size": "10", "access_mode": "open",
        "opens_at": "2027-03-02", "closes_at": "2027-03-01"})
    assert response.status_code == 422
    assert "Closes: the survey must close after it opens" in response.get_data(as_text=True)
    lines = list(export_lines(survey))
    db.session.delete(survey)
    db.session.commit()
    header = json.loads(lines[0])
    header.update(opens_at="2027-03-02T00:00:00+00:00", closes_at="2027-03-01T00:00:00+00:00")
    with pytest.raises(RestoreError, match="must close after it opens"):
        import_survey(io.StringIO(json.dumps(header) + "\n"))
