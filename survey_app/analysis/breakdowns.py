"""Every estimate of an item, overall and by each breakdown variable, with gaps, after disclosure control.

For an item this gives what a results page and the open data show:

* ``overall``: its estimates (percent per option; for scales also mean and
  percent agreeing; for numbers and indices the mean) with SE, 95% CI and n;
* ``breakdowns``: the same by each breakdown variable (the questions tagged
  ``demographics``: district, age band, gender, race/ethnicity), and the gap
  between every two groups on the item's headline statistic (percent
  agreeing for scales, the mean for numbers and indices) with its 95% CI and
  a two-sided t test at 5%;
* every figure that disclosure control hides (``disclosure.py``) is None and
  its row says ``suppressed``; gaps are given only between two shown groups.

An item's overall figures are protected together with each of its
breakdowns; the overall figures hidden by any breakdown are hidden in all
of them (hiding more never reveals more). Breakdowns by different variables
are protected one at a time, which the methodology says.

With ``earlier`` (the item as the survey's earlier public versions published
it), every table is also protected against those versions: the differencing
rule (``differencing.py``, ``disclosure.version_leaks``).
"""
from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from ..questionnaire.question_types import question_type, top_codes
from ..questionnaire.types import DEMOGRAPHICS
from . import variance
from .differencing import item_release
from .disclosure import protect_breakdown, protect_whole
from .estimates import (Grouping, _clean, estimate_records, estimated_options, groups_of, linearise_groupings,
                        scaled_gaps)
from .frame import Codebook, QuestionInfo


def breakdown_variables(codebook: Codebook) -> list[QuestionInfo]:
    return [q for q in codebook.questions if q.construct == DEMOGRAPHICS and question_type(q.type).breaks_down]


def groupings(frame: pd.DataFrame, codebook: Codebook, design: variance.Design | None = None) -> dict[str, Grouping]:
    """Each breakdown variable's group index per respondent, computed once for all items (with
    the design: whether the groups follow its cells, which lets every item share one pass)."""
    return {q.code: groups_of(frame, q.code, codebook, design) for q in breakdown_variables(codebook)}


def _count_tables(records: list[dict], question: QuestionInfo, groups: list) -> list[np.ndarray]:
    """The unweighted count tables disclosure control works on (groups x cells), one per
    protected unit, as the item's type makes them."""
    return question_type(question.type).count_tables(records, len(groups))


def _top(question: QuestionInfo) -> list[int] | None:
    if not top_codes(question.type):
        return None
    options = estimated_options(question)
    return [i for i, code in enumerate(options) if code in top_codes(question.type)]


def _hidden_rows(records: list[dict], question: QuestionInfo, groups: list, protections: list) -> np.ndarray:
    """Per record: whether disclosure control hides it (the item's type reads its protections)."""
    kind = question_type(question.type)
    group_pos = {g: i for i, g in enumerate(groups)}
    option_pos = {o: i for i, o in enumerate(estimated_options(question))}
    return np.array([kind.hidden(record, group_pos[record["group"]], option_pos, protections) for record in records],
                    dtype=bool)


def _group_hidden(question: QuestionInfo, protections: list, g: int) -> bool:
    # A multiple choice group's n is on every option's record: hidden if any option's table hid
    # the group, else that table's own protection would be undone by another's record.
    return bool(any(p.rows[g] for p in protections))


def _published(records: list[dict], hidden: np.ndarray, group_hidden: dict) -> list[dict]:
    """The records with what disclosure control hides set to None, each marked ``suppressed``."""
    out = []
    for record, is_hidden in zip(records, hidden):
        record = dict(record)
        record["suppressed"] = bool(is_hidden)
        if is_hidden:
            for key in ("estimate", "se", "lci", "uci", "count"):
                record[key] = None
            if "counts" in record:  # as long as before: how wide the table is stays known
                record["counts"] = [None] * len(record["counts"])
        if group_hidden.get(record["group"], False):
            record["n"] = None
            record["df"] = None
        out.append(record)
    return out


def item_estimates(frame: pd.DataFrame, design: variance.Design, question: QuestionInfo,
                   codebook: Codebook, k: int, grouping_cache: dict | None = None,
                   with_breakdowns: bool = True, earlier: list[tuple[dict, int]] = ()) -> dict:
    """Overall and breakdown estimates of one item, protected, as JSON-ready records.

    earlier: (the item's results in an earlier public version, that version's N), oldest first.
    """
    kind = question_type(question.type)
    if not kind.has_estimates():
        raise ValueError(f"{question.code}: free text has no estimates")
    cache = grouping_cache if grouping_cache is not None else groupings(frame, codebook, design)
    variables = [by for by in (breakdown_variables(codebook) if with_breakdowns else []) if by.code != question.code]
    everyone = Grouping(np.zeros(len(frame), dtype=np.int64), [None], np.zeros(design.n_cells, dtype=np.int64))
    overall_lins, *breakdown_lins = linearise_groupings(frame, design, question,
                                                        [everyone] + [cache[by.code] for by in variables])
    overall_table = estimate_records(overall_lins, [None], question)
    overall_counts = _count_tables(overall_table, question, [None])
    top = _top(question)
    options = estimated_options(question) or [None]
    n_responses = len(frame)

    def protect(unit: int, overall_c, group_c, variable: str | None, codes: list, done: list):
        """Protect table ``unit`` as the item's type says; ``done``: this breakdown's protections
        (overall, groups) of the units before it."""
        releases = [item_release(item, options, unit, variable, codes, n)
                    for item, n in earlier]

        def by_cells():
            return protect_breakdown(overall_c, group_c, k, top=top, earlier=releases, n_responses=n_responses,
                                     whole_rows=kind.several_answers)

        def whole():
            return protect_whole(
                overall_c, group_c, k, releases, row_sizes=len(options),
                blocked_overall=any(o.cells[0].any() or o.rows[0] for o, _ in done),
                blocked_groups=any(g.cells.any() or g.rows.any() for _, g in done if g is not None))

        return kind.protect_unit(unit, by_cells, whole)

    computed = []
    overall_hidden_cells = [np.zeros_like(c[0], dtype=bool) for c in overall_counts]
    overall_hidden_rows = [False] * len(overall_counts)
    overall_top_hidden = False
    for by, lins in zip(variables, breakdown_lins):
        grouping = cache[by.code]
        table = estimate_records(lins, grouping.groups, question)
        protections, done = [], []
        for u, (overall_c, group_c) in enumerate(zip(overall_counts, _count_tables(table, question, grouping.groups))):
            overall_p, group_p = protect(u, overall_c[0], group_c, by.code, grouping.groups, done)
            done.append((overall_p, group_p))
            overall_hidden_cells[u] |= overall_p.cells[0]
            overall_hidden_rows[u] |= bool(overall_p.rows[0])
            overall_top_hidden |= bool(overall_p.top[0]) and top is not None
            protections.append(group_p)
        computed.append((by, grouping, lins, table, protections))

    # The overall table on its own, then with everything any breakdown hid.
    final_overall = []
    for u, counts in enumerate(overall_counts):
        alone, _ = protect(u, counts[0], np.zeros((0, counts.shape[1]), dtype=np.int64), None, [],
                           [(p, None) for p in final_overall])
        alone.cells[0] |= overall_hidden_cells[u]
        alone.rows[0] |= overall_hidden_rows[u]
        alone.top[0] |= overall_top_hidden or alone.rows[0]
        alone.mean[0] |= alone.cells[0].any() or alone.rows[0]
        final_overall.append(alone)
    overall_hidden = _hidden_rows(overall_table, question, [None], final_overall)
    result = {
        "overall": _published(overall_table, overall_hidden, {None: _group_hidden(question, final_overall, 0)}),
        "breakdowns": [],
    }

    headline = kind.headline_statistic
    for by, grouping, lins, table, protections in computed:
        groups = grouping.groups
        hidden = _hidden_rows(table, question, groups, protections)
        group_hidden = {g: _group_hidden(question, protections, i) for i, g in enumerate(groups)}
        entry = {
            "variable": by.code,
            "text": by.text,
            "groups": [{"code": g, "label": by.label_of(g), "suppressed": group_hidden[g]} for g in groups],
            "rows": _published(table, hidden, group_hidden),
            "gaps": [],
        }
        if headline is not None:
            positions = [r for r, record in enumerate(table) if record["statistic"] == headline]
            published = [i for i, r in enumerate(positions) if not hidden[r]]
            pairs = list(combinations(published, 2))
            for (i, j), gap in zip(pairs, scaled_gaps(lins[headline], pairs, headline)):
                entry["gaps"].append({"statistic": headline, "first": groups[i], "second": groups[j],
                                      **{key: _clean(value) for key, value in gap.items()}})
        result["breakdowns"].append(entry)
    return result
