"""Counts of respondents by mode and language, as the methodology publishes them: a group of 1
to k - 1 is withheld, so is one the survey's N would give away, and one that moved by 1 to k - 1
since a public version (analysis/fieldwork.protect_counts)."""
from __future__ import annotations

import itertools

import pytest

from survey_app.analysis.fieldwork import protect_counts


def test_small_groups_are_withheld_with_enough_beside_them_that_n_gives_nothing_away():
    assert protect_counts({"web": 120, "paper": 3}, 10) == {"web": None, "paper": None}
    assert protect_counts({"web": 120, "paper": 3, "phone": 15}, 10) == {"web": 120, "paper": None, "phone": None}
    assert protect_counts({"web": 120, "paper": 12, "phone": 0}, 10) == {"web": 120, "paper": 12, "phone": 0}
    assert protect_counts({"en": 50, "es": 4, "other": 7}, 10) == {"en": 50, "es": None, "other": None}


def test_a_count_that_moved_by_fewer_than_k_since_a_public_version_is_withheld():
    earlier = [{"web": 120, "paper": 12, "phone": 40}]
    shown = protect_counts({"web": 130, "paper": 13, "phone": 40}, 10, earlier)
    assert shown["web"] == 130
    assert shown["paper"] is None  # 12 -> 13: the newcomer answered on paper
    # ... and not alone: N less the shown ones would give the 13 back; the smallest goes with it.
    assert shown["phone"] is None


@pytest.mark.parametrize("k", [3, 5, 10])
def test_no_withheld_count_or_change_can_be_worked_out(k):
    """Exhaustively over small tables of three modes: from N and what is shown, every withheld
    count (and its change from an earlier version) is either unknown or k or more."""
    for now, before in itertools.product(itertools.product(range(0, 2 * k + 2, 3), repeat=3), repeat=2):
        counts, earlier = dict(zip("abc", now)), dict(zip("abc", before))
        published_before = protect_counts(earlier, k)
        shown = protect_counts(counts, k, [published_before])
        for name, value in shown.items():
            if value is not None:
                assert value == 0 or value >= k
                if published_before[name] is not None:
                    assert value == published_before[name] or abs(value - published_before[name]) >= k
        hidden = [name for name, value in shown.items() if value is None]
        if hidden:  # N minus the shown: the withheld total, which must be no small group by itself
            total = sum(counts[name] for name in hidden)
            assert total == 0 or total >= k or sum(counts.values()) < k  # (N < k publishes N alone)
            if len(hidden) == 1:  # only where the others are all zero: the one withheld is N itself
                assert all(counts[name] == 0 for name in counts if name not in hidden)


def test_the_results_page_shows_a_withheld_count_as_a_dash_with_the_reason(app, client):
    import html
    import re

    from sqlalchemy import update

    from survey_app import publishing
    from survey_app.analysis.pipeline import analyze_survey
    from survey_app.extensions import db
    from survey_app.models import Response

    from .factories import add_response, make_survey

    survey = make_survey()
    ids = [add_response(survey, trust=1 + n % 5, district=1 + n % 3, contact=1) for n in range(30)]
    db.session.execute(update(Response).where(Response.id.in_(ids[:3])).values(mode="paper"))
    db.session.commit()
    with db.engine.connect() as connection:
        analyze_survey(connection, survey.slug, app.config["GENERATED_DIR"])
    publishing.publish(survey, app.config["GENERATED_DIR"])
    page = re.sub(r"\s+", " ", re.sub("<[^>]+>", " ", html.unescape(client.get("/results/small").get_data(as_text=True))))
    assert "30: – on paper, – online." in page  # 3 on paper; 27 online would give the 3 back
    assert "Counts by mode of fewer than 10, and those from which one could be worked out, are not shown" in page
    assert " 3 on paper" not in page and "27 online" not in page
