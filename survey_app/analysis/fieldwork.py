"""How the answers were collected, for the methodology box: field dates, modes, languages,
response and completion rates. Read with a plain SQLAlchemy connection (no Flask).

Counts of responses by mode or language are groups of respondents like any other: a count of
1 to k - 1 is not published (the page says "fewer than k"), nor one that moved by 1 to k - 1
since a public version published it, nor one that the survey's N less the published ones would
give away (``protect_counts``). The rates are ratios of survey-wide totals.
"""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection


def protect_counts(counts: dict[str, int], k: int, earlier: list[dict] = ()) -> dict[str, int | None]:
    """Counts of respondents by mode or language as they may be published (None: withheld).

    Withheld: a count of 1 to k - 1; a count that differs by 1 to k - 1 from what an earlier
    public version published for it; then, since N is published, more counts until the
    withheld ones add up to k or more and are not a single one (N less the others would give
    it away), smallest first.
    """
    hidden = {name for name, count in counts.items() if 1 <= count < k}
    for version in earlier:
        for name, count in counts.items():
            before = (version or {}).get(name)
            if before is not None and 1 <= abs(count - before) < k:
                hidden.add(name)
            if before is None and name in (version or {}) and count:
                hidden.add(name)  # withheld then: showing it now would give that version's away
    while hidden and (len(hidden) == 1 or sum(counts[name] for name in hidden) < k):
        shown = sorted((count, name) for name, count in counts.items() if name not in hidden and count)
        if not shown:
            break
        hidden.add(shown[0][1])
    return {name: (None if name in hidden else count) for name, count in counts.items()}


def load_fieldwork(connection: Connection, survey_id: int, k: int = 1, earlier: list[dict] = ()) -> dict:
    """``k``: the survey's minimum cell size; ``earlier``: the fieldwork of its public versions."""
    first, last = connection.execute(
        text("SELECT MIN(submitted_on), MAX(submitted_on) FROM response WHERE survey_id = :s"),
        {"s": survey_id}).one()
    modes = dict(connection.execute(
        text("SELECT mode, COUNT(*) FROM response WHERE survey_id = :s GROUP BY mode ORDER BY mode"),
        {"s": survey_id}).all())
    languages = dict(connection.execute(
        text("SELECT language, COUNT(*) FROM response WHERE survey_id = :s GROUP BY language ORDER BY language"),
        {"s": survey_id}).all())
    unfinished = connection.execute(
        text("SELECT COUNT(*) FROM response_draft WHERE survey_id = :s"), {"s": survey_id}).scalar_one()
    invited, used = connection.execute(
        text("SELECT COUNT(*), COUNT(CASE WHEN used THEN 1 END) FROM invitation WHERE survey_id = :s"),
        {"s": survey_id}).one()
    opens_at, closes_at, access_mode = connection.execute(
        text("SELECT opens_at, closes_at, access_mode FROM survey WHERE id = :s"), {"s": survey_id}).one()
    web = modes.get("web", 0)
    return {
        "first_response": str(first) if first else None,
        "last_response": str(last) if last else None,
        "opens_at": str(opens_at)[:10] if opens_at else None,
        "closes_at": str(closes_at)[:10] if closes_at else None,
        "access_mode": access_mode,
        "modes": protect_counts({mode: int(count) for mode, count in modes.items()}, k,
                                [e.get("modes") for e in earlier]),
        "languages": protect_counts({language: int(count) for language, count in languages.items()}, k,
                                    [e.get("languages") for e in earlier]),
        # Of the residents who started online, the share who submitted (unfinished: drafts kept).
        "completion_rate": (100.0 * web / (web + unfinished)) if web + unfinished else None,
        "invitations": int(invited),
        # Invitation surveys: responses per code mailed (AAPOR's simplest response rate, RR1-like).
        "response_rate": (100.0 * used / invited) if invited else None,
    }


def margin_of_error(n: int, design_effect: float = 1.0, z: float = 1.96) -> float | None:
    """The largest 95% margin of error of a percentage (at 50%), in percentage points,
    inflated by the weighting's design effect: z * sqrt(deff * 0.25 / n) * 100."""
    if n <= 0:
        return None
    return z * (design_effect * 0.25 / n) ** 0.5 * 100
