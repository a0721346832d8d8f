"""Trends across the waves of a survey series: each item's and index's estimates wave by wave,
and the change between consecutive waves with its 95% CI.

Items are matched by code; an item counts as the same across waves only if
its type and options are the same (wording fixes are allowed, a changed scale
is not). Waves are independent samples, so the change from wave a to wave b

    change = theta_b - theta_a,   SE = sqrt(SE_a^2 + SE_b^2),

with the t interval on min(df_a, df_b) degrees of freedom (a conservative
choice) and a two-sided t test at 5%. The estimates and SEs are each wave's
own published ones (weighted to that wave's margins): the survey's own draft,
and every other wave exactly as its newest published, not withdrawn, version
shows it (``pipeline.series_trends``); a figure that disclosure control hides
in a wave has no change to or from it.
"""
from __future__ import annotations

import math

from .variance import interval, t_test


def signature(question: dict) -> tuple:
    """What must match for an item to be compared across waves."""
    return (question["type"], tuple(question.get("option_codes", ())))


def _key(row: dict) -> tuple:
    return (row["statistic"], row["option"])


def _change(first: dict, second: dict) -> dict:
    if first["estimate"] is None or second["estimate"] is None or first["se"] is None or second["se"] is None:
        return {"change": None, "se": None, "lci": None, "uci": None, "df": None, "p_value": None,
                "significant": None}
    change = second["estimate"] - first["estimate"]
    se = math.sqrt(first["se"] ** 2 + second["se"] ** 2)
    df = min(first["df"], second["df"])
    bounds = interval(change, se, df)
    test = t_test(change, se, df)
    return {"change": change, "se": se, "lci": float(bounds["lci"]), "uci": float(bounds["uci"]), "df": df,
            "p_value": None if math.isnan(test["p_value"]) else test["p_value"],
            "significant": test["significant"]}


def trend_table(waves: list[dict]) -> list[dict]:
    """One entry per item (and index) present and comparable in at least two waves.

    ``waves``: oldest first, each {"wave", "slug", "title", "items": [item]}, an item being
    {"code", "text", "type", "option_codes", "overall": [published overall records]}.
    """
    by_code: dict[str, list[tuple[dict, dict]]] = {}
    for wave in waves:
        for item in wave["items"]:
            by_code.setdefault(item["code"], []).append((wave, item))
    trends = []
    for code, appearances in by_code.items():
        latest = appearances[-1][1]
        comparable = [(w, i) for w, i in appearances if signature(i) == signature(latest)]
        if len(comparable) < 2:
            continue
        series = []
        for row in latest["overall"]:
            key = _key(row)
            points = []
            for wave, item in comparable:
                match = next((r for r in item["overall"] if _key(r) == key), None)
                if match is None:
                    continue
                points.append({"wave": wave["wave"], "slug": wave["slug"], "title": wave["title"],
                               **{f: match.get(f) for f in ("estimate", "se", "lci", "uci", "n", "df",
                                                             "suppressed")}})
            changes = [{"from_wave": a["wave"], "to_wave": b["wave"], **_change(a, b)}
                       for a, b in zip(points, points[1:])]
            series.append({"statistic": row["statistic"], "option": row["option"], "points": points,
                           "changes": changes})
        trends.append({"code": code, "text": latest["text"], "series": series,
                       "waves": [w["wave"] for w, _ in comparable]})
    return trends
