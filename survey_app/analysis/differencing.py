"""The differencing rule between a survey's public versions, read from their stored results.

Every version ever published stays public (a withdrawn one was public once), so whoever holds
two of them holds their difference: the respondents who came or went in between. That
difference must pass the same rule as any table: no count of 1 to k - 1 respondents in it may
be published or worked out (``disclosure.py`` has the audit; its section "Differencing between
published versions" says how).

This module supplies what the audit needs from the files alone: what each earlier version
published about a table (``item_release``), read from its ``results.json`` (the published
counts are in it; the hidden ones are not, and need not be: the audit asks what the published
figures pin down, not what the hidden ones were); the survey-wide rule on N
(``responses_needed``); ``check_draft``, which publishing runs again on the draft's own
file against the versions public at that moment; and, for trends across a series, what another
wave may be shown as (``newest_published``, checked again by ``trend_mismatches``). No Flask here.
"""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from ..questionnaire.question_types import of_published_item, top_codes
from .disclosure import Release, version_leaks

RESULTS_FILE = "results.json"  # pipeline.RESULTS_FILE (pipeline imports this module, not the reverse)


def load_public_results(connection: Connection, survey_id: int, generated_dir: str | Path,
                        statuses: tuple[str, ...] = ("published", "withdrawn")) -> list[dict]:
    """Every public version's results document (published and withdrawn), oldest first,
    each with its ``version`` added. A version whose files are missing is a document with
    ``missing`` set (and nothing else): nothing can be checked against it.

    ``statuses``: ("published",) for the versions whose figures are still shown. Every check
    of the differencing rule uses both: a withdrawn version was public once."""
    rows = connection.execute(
        text("SELECT version, storage_path FROM snapshot WHERE survey_id = :s "
             "AND status IN :statuses ORDER BY version").bindparams(bindparam("statuses", expanding=True)),
        {"s": survey_id, "statuses": list(statuses)}).all()
    documents = []
    for version, storage_path in rows:
        path = Path(generated_dir) / storage_path / RESULTS_FILE
        try:
            document = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            document = {"missing": str(path.parent), "suppressed": True}
        documents.append({**document, "version": int(version)})
    return documents


def newest_published(connection: Connection, survey_id: int, generated_dir: str | Path) -> dict | None:
    """The survey's newest published (not withdrawn) version as it published its figures, or None
    when there is none with figures (never published, only withdrawn versions, files missing, or
    fewer than k responses in it). What a trend in another survey of its series may show of it."""
    published = load_public_results(connection, survey_id, generated_dir, statuses=("published",))
    return published[-1] if published and not published[-1].get("suppressed") else None


def with_figures(documents: list[dict]) -> list[dict]:
    """The versions that published figures (one with fewer than k responses publishes only its N)."""
    return [d for d in documents if not d.get("suppressed")]


def responses_needed(n: int, earlier: list[int], k: int) -> int:
    """How many more responses the survey needs before it can be published again: 0 when its N
    differs from every earlier public N (of a version with figures) by 0 or by k or more.

    N is on every version, so a change of 1 to k - 1 would set the newcomers (or the removed)
    apart in every table at once; no suppression inside the tables could undo that.
    """
    def allowed(m: int) -> bool:
        return all(m == e or abs(m - e) >= k for e in earlier)

    more = 0
    while not allowed(n + more):
        more += 1
    return more


def find_item(document: dict, code: str) -> dict | None:
    for item in document.get("questions", []) + document.get("indices", []):
        if item.get("code") == code:
            return item if "estimates" in item else None
    return None


def top_positions(item_type: str, options: list) -> list[int] | None:
    """Where the favourable end of an item's scale lies among its options (None: it has none)."""
    favourable = top_codes(item_type)
    if not favourable:
        return None
    return [i for i, code in enumerate(options) if code in favourable]


def _fill(records: list[dict], codes: list, item: dict, options: list, unit: int, top):
    """Cells, group n and top-box counts that these records publish, NaN where hidden."""
    return of_published_item(item).released(records, {code: i for i, code in enumerate(codes)}, options, unit, top,
                                             item)


def item_release(item: dict, options: list, unit: int, variable: str | None, group_codes: list,
                 n_responses: int) -> Release:
    """What one version's item published about one table: its overall row and, with ``variable``,
    that breakdown's groups ``group_codes`` (a group the version did not show publishes nothing)."""
    top = top_positions(item.get("type"), options)
    overall_cells, overall_rows, overall_tops = _fill(item["estimates"].get("overall") or [], [None], item,
                                                      options, unit, top)
    records = []
    if variable is not None:
        for breakdown in item["estimates"].get("breakdowns") or []:
            if breakdown.get("variable") == variable:
                records = breakdown.get("rows") or []
    cells, rows, tops = _fill(records, group_codes, item, options, unit, top)
    return Release(n_responses=int(n_responses), cells=cells, rows=rows, tops=tops, overall=overall_cells[0],
                   total=float(overall_rows[0]), overall_top=float(overall_tops[0]))


def item_options(item: dict) -> list:
    """The item's estimated options, in order, from its overall records."""
    options = []
    for record in item["estimates"].get("overall") or []:
        if record.get("statistic") == "percent" and record.get("option") not in options:
            options.append(record["option"])
    return options


def check_draft(draft: dict, public: list[dict]) -> list[str]:
    """What in the draft breaks the differencing rule against the public versions (empty: nothing).

    Works on the documents alone, the draft's own published figures included, so it is an
    independent second look at what the analysis did: publishing runs it against the
    versions public at that moment.
    """
    if draft.get("suppressed"):
        return []
    k = int(draft["min_cell_size"])
    earlier = with_figures(public)
    problems = []
    more = responses_needed(int(draft["n_responses"]), [int(d["n_responses"]) for d in earlier], k)
    if more:
        problems.append(f"responses: {more} more needed")
    if not earlier:
        return problems
    for item in draft.get("questions", []) + draft.get("indices", []):
        if "estimates" not in item:
            continue
        kind = of_published_item(item)
        options = item_options(item) or [None]  # a mean's item has no options
        old_items = [(find_item(d, item["code"]), int(d["n_responses"])) for d in earlier]
        old_items = [(old, n) for old, n in old_items if old is not None]
        if not old_items:
            continue
        variables = [None] + [b["variable"] for b in item["estimates"].get("breakdowns") or []]
        for variable in variables:
            codes = []
            if variable is not None:
                codes = next(b for b in item["estimates"]["breakdowns"] if b["variable"] == variable)
                codes = [g["code"] for g in codes["groups"]]
            for unit in kind.protected_units(options):
                releases = [item_release(old, options, unit, variable, codes, n) for old, n in old_items]
                releases.append(item_release(item, options, unit, variable, codes, draft["n_responses"]))
                if version_leaks(releases, k, top_positions(item.get("type"), options)):
                    problems.append(f"{item['code']}" + (f" by {variable}" if variable else ""))
                    break
    return problems


TREND_FIELDS = ("estimate", "se", "lci", "uci", "n", "df", "suppressed")


def _same(a, b) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and a != a and b != b)  # NaN


def trend_mismatches(draft: dict, shown: dict[str, dict | None]) -> list[int]:
    """The other waves (numbers) that the draft's trends show otherwise than their newest published
    version does; ``shown``: that version's document by slug (``newest_published``), None for none.

    A trend shows another wave only as that wave itself publishes it: a figure recomputed from its
    responses could differ from a published one by 1 to k - 1 respondents, and a withdrawn one
    must not reappear. Publishing runs this against the versions published at that moment.
    """
    own = (draft.get("survey") or {}).get("slug")
    wrong = []
    for trend in draft.get("trends") or []:
        for series in trend["series"]:
            for point in series["points"]:
                if point["slug"] == own or point["wave"] in wrong:
                    continue
                document = shown.get(point["slug"])
                item = find_item(document, trend["code"]) if document else None
                record = next((r for r in item["estimates"].get("overall") or []
                               if (r.get("statistic"), r.get("option")) == (series["statistic"], series["option"])),
                              None) if item else None
                if record is None or not all(_same(record.get(f), point.get(f)) for f in TREND_FIELDS):
                    wrong.append(point["wave"])
    return sorted(wrong)
