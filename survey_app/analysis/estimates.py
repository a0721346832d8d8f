"""Per-question tables and summaries (unweighted), then the weighted estimates.

The tables and summaries count respondents as they are, before any weighting, and every
figure in them says so in its name (``unweighted_percent``...): in a weighted analysis they
differ from the estimates, and results.json (the open data) must not pass one off as the other.
Definitions, as written in the methodology:

* ``unweighted_percent``: share of everyone who answered the question, "don't know"
  and "prefer not to say" included (SPSS's "Percent" over answered cases).
* ``unweighted_valid_percent``: share of substantive answers only; blank for the
  non-substantive codes (SPSS's "Valid Percent").
* scale ``unweighted_mean``: mean of the points over substantive answers.
* scale ``unweighted_percent_agree``: the favourable end over substantive answers.
* multiple choice ``unweighted_percent``: share of those who answered the question who
  chose the option; an answer may choose several, so these add up to more than 100.
* numeric: count, mean, standard deviation (n - 1), quartiles by linear
  interpolation (pandas' default), minimum and maximum (never published).

The weighted estimates with standard errors (below) are what the results publish.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..questionnaire.types import MISSING_CODES, multi_bit
from ..questionnaire.question_types import question_type, top_codes
from . import variance
from .frame import QuestionInfo, SurveyData, code_lookup
from .weighting import cell_members


def _percent(part, whole) -> float | None:
    return None if whole == 0 else 100.0 * part / whole


def _clean(value) -> float | None:
    """JSON-safe number: NaN becomes None."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def frequency_table(series: pd.Series, question: QuestionInfo) -> pd.DataFrame:
    """Counts and percentages of a single-answer question, one row per option in display order."""
    counts = series.value_counts(dropna=True).reindex([c for c, _ in question.options], fill_value=0)
    answered = int(counts.sum())
    valid = int(counts[[c for c in counts.index if c not in MISSING_CODES]].sum())
    table = pd.DataFrame(
        {
            "code": counts.index.astype(int),
            "label": [label for _, label in question.options],
            "count": counts.to_numpy(dtype=np.int64),
            "missing_code": [c in MISSING_CODES for c in counts.index],
        }
    )
    table["unweighted_percent"] = [_percent(c, answered) for c in table["count"]]
    table["unweighted_valid_percent"] = [
        None if missing else _percent(c, valid) for c, missing in zip(table["count"], table["missing_code"])
    ]
    return table


def multiple_choice_table(series: pd.Series, question: QuestionInfo) -> pd.DataFrame:
    masks = series.dropna().to_numpy(dtype=np.int64)
    return _counts_table(question, [int(np.count_nonzero(masks & multi_bit(code))) for code, _ in question.options],
                         len(masks))


def _counts_table(question: QuestionInfo, counts: list[int], answered: int) -> pd.DataFrame:
    """A count per option with its share of those who answered (no non-answers among them)."""
    return pd.DataFrame({
        "code": [code for code, _ in question.options],
        "label": [label for _, label in question.options],
        "count": counts,
        "missing_code": False,
        "unweighted_percent": [_percent(c, answered) for c in counts],
        "unweighted_valid_percent": [_percent(c, answered) for c in counts],
    })


def scale_summary(series: pd.Series, question: QuestionInfo) -> dict:
    # From the count of each answer (a categorical's counts are one pass over its small codes).
    counts = {int(code): int(count) for code, count in series.value_counts(dropna=True).items()}
    points = {code: count for code, count in counts.items() if code not in MISSING_CODES and count}
    valid = sum(points.values())
    top = top_codes(question.type)
    return {
        "n_valid": valid,
        "n_dont_know": counts.get(MISSING_CODES[0], 0),
        "n_prefer_not_to_say": counts.get(MISSING_CODES[1], 0),
        "unweighted_mean": _clean(sum(code * count for code, count in points.items()) / valid) if valid else None,
        "unweighted_percent_agree": _percent(sum(count for code, count in points.items() if code in top), valid),
    }


def numeric_summary(series: pd.Series) -> dict:
    values = series.dropna()
    if values.empty:
        return {"n_valid": 0, "unweighted_mean": None, "unweighted_sd": None, "min": None, "unweighted_q1": None,
                "unweighted_median": None, "unweighted_q3": None, "max": None}
    return {
        "n_valid": int(values.size),
        "unweighted_mean": _clean(values.mean()),
        "unweighted_sd": _clean(values.std(ddof=1)) if values.size > 1 else None,
        "min": _clean(values.min()),
        "unweighted_q1": _clean(values.quantile(0.25)),
        "unweighted_median": _clean(values.median()),
        "unweighted_q3": _clean(values.quantile(0.75)),
        "max": _clean(values.max()),
    }


def summarise_question(data: SurveyData, question: QuestionInfo) -> dict:
    """Everything the results page shows for one question, as JSON-ready values."""
    base = {"code": question.code, "text": question.text, "type": question.type,
            "kind": question.kind, "page": question.page,
            "top": [str(code) for code in top_codes(question.type)]}  # the favourable end of a scale
    return question_type(question.type).summary(data, question, base)


def text_summary(data: SurveyData, question: QuestionInfo, base: dict) -> dict:
    """Written answers: only how many answered (they are never loaded or published)."""
    answered = data.text_counts.get(question.code, 0)
    return {**base, "n_answered": answered, "n_skipped": data.n_responses - answered, "table": [], "summary": {}}


def column_summary(data: SurveyData, question: QuestionInfo, base: dict, table=None, summary=None) -> dict:
    """The counts every loaded item has, with its table (``table(series, question)``) and its
    summary (``summary(series, question)``) if the type has them."""
    series = data.frame[question.code]
    answered = int(series.notna().sum())
    result = {**base, "n_answered": answered, "n_skipped": data.n_responses - answered, "table": [], "summary": {}}
    if table is not None:
        result["table"] = [
            {key: (_clean(value) if key in ("unweighted_percent", "unweighted_valid_percent") else value)
             for key, value in row.items()}
            for row in table(series, question).astype(object).to_dict(orient="records")
        ]
    if summary is not None:
        result["summary"] = summary(series, question)
    return result


def summarise_survey(data: SurveyData) -> list[dict]:
    return [summarise_question(data, q) for q in data.codebook.questions]


# --- Weighted estimates with standard errors -------------------------------------------------
#
# Every estimate is a (domain) ratio mean, linearised as in variance.py. "Don't know" and
# "prefer not to say" are missing for estimates; respondents who did not report the
# breakdown variable belong to no group. Percentages are on the 0-100 scale.

# count: unweighted respondents with the option (proportions only); n: unweighted base.
ESTIMATE_COLUMNS = ["group", "statistic", "option", "estimate", "se", "lci", "uci", "count", "n", "df"]


def _groups(frame: pd.DataFrame, by: str | None, codebook) -> tuple[np.ndarray, list]:
    """Group index of every respondent (-1: in no group) and the group codes, in display order."""
    n = len(frame)
    if by is None:
        return np.zeros(n, dtype=np.int64), [None]
    codes = [c for c, _ in codebook.question(by).options if c not in MISSING_CODES]
    values = frame[by].astype("float64").to_numpy()
    index = np.full(n, -1, dtype=np.int64)
    for position, code in enumerate(codes):
        index[values == code] = position
    return index, codes


@dataclass(frozen=True)
class Grouping:
    """Respondents' groups for one breakdown (or one group: everyone)."""

    index: np.ndarray  # per respondent: position of its group in ``groups``, -1 for none
    groups: list
    # Per cell of the design: the group of every respondent of the cell, when they all share one
    # (a breakdown by a weighting variable, or everyone); then sums by cell give sums by group.
    of_cell: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.groups)


def groups_of(frame: pd.DataFrame, by: str | None, codebook=None, design: variance.Design | None = None) -> Grouping:
    """The groups of ``by`` (everyone with None); with the design, whether they follow its cells."""
    index, groups = _groups(frame, by, codebook)
    of_cell = None
    if design is not None and len(index) == design.n:
        member = cell_members(design.cell, design.n_cells)
        if np.array_equal(index[member][design.cell], index):
            of_cell = index[member]
    return Grouping(index, groups, of_cell)


def _tallies(design: variance.Design, groupings: list[Grouping], valid: np.ndarray, key=None, size: int = 1,
             y=None, squares: bool = False) -> list[list[np.ndarray]]:
    """Per grouping: the sums every estimator is made of, by cell, group and ``key`` (0 to
    size - 1), each cells x groups x size: respondents, sum of w y and of w^2 y (of 1 without
    ``y``), with ``squares`` also of w^2 y^2. Over the respondents in ``valid`` (``key`` and
    ``y`` are given for those only) who are in a group.

    An item is estimated overall and by several breakdowns. A grouping whose groups follow the
    design's cells (everyone; a weighting variable) is read off one pass over the respondents by
    cell, made once for all of them; any other grouping takes a pass of its own. Measured at a
    million respondents, 30 items and four breakdowns by weighting variables: 3.4 s with a pass
    per grouping, 0.9 s with this.
    """
    cells = design.n_cells
    w = design.weights[valid]
    cell = design.cell[valid]
    key = np.zeros(len(w), dtype=np.int64) if key is None else key

    def sums(rows, total, selected=None):
        ws = w if selected is None else w[selected]
        ys = None if y is None else (y if selected is None else y[selected])
        out = list(_sums(rows, ws, total, ys))
        if squares:
            out.append(np.bincount(rows, ws * ws * ys * ys, minlength=total))
        return out

    by_cell = None
    result = []
    for g in groupings:
        if g.of_cell is not None:
            if by_cell is None:
                by_cell = [s.reshape(cells, size) for s in sums(cell * size + key, cells * size)]
            inside = np.flatnonzero(g.of_cell >= 0)
            tallies = []
            for per_cell in by_cell:
                tally = np.zeros((cells, g.n, size))
                tally[inside, g.of_cell[inside]] = per_cell[inside]
                tallies.append(tally)
        else:
            group = g.index[valid]
            inside = group >= 0
            rows = (cell[inside] * g.n + group[inside]) * size + key[inside]
            tallies = [s.reshape(cells, g.n, size) for s in sums(rows, cells * g.n * size, inside)]
        result.append(tallies)
    return result


def _rows(lin, groups, statistic, options, scale, proportion) -> list[dict]:
    se = lin.se
    est = lin.estimate
    bounds = (variance.logit_interval(est, se, lin.df) if proportion
              else variance.interval(est, se, lin.df))
    rows = []
    for e, (group, option) in enumerate((g, o) for g in groups for o in options):
        rows.append({
            "group": group, "statistic": statistic, "option": option,
            "estimate": _clean(est[e] * scale), "se": _clean(se[e] * scale),
            "lci": _clean(bounds["lci"][e] * scale), "uci": _clean(bounds["uci"][e] * scale),
            "count": int(round(lin.y_total[e])) if proportion else None,
            "n": int(lin.n_valid[e]), "df": int(lin.df[e]),
        })
        if lin.cell_counts is not None:
            rows[-1]["counts"] = [int(c) for c in lin.cell_counts[e]]
    return rows


def _option_index(column: pd.Series, options: list[int]) -> np.ndarray:
    """Position of every respondent's answer among ``options`` (-1: missing or not among them)."""
    return code_lookup(column, {code: k for k, code in enumerate(options)}, -1, np.int64)


def _sums(key, weights, size, y=None):
    """Unweighted, weighted and squared-weight sums of y (or of 1) over each key."""
    ones = np.ones(len(key)) if y is None else y
    return (np.bincount(key, ones, minlength=size),
            np.bincount(key, weights * ones, minlength=size),
            np.bincount(key, weights * weights * ones, minlength=size))


def linearise_item(frame: pd.DataFrame, design: variance.Design, question: QuestionInfo,
                   by: str | None = None, codebook=None, grouping: Grouping | None = None) -> dict[str, variance.Linearised]:
    """Linearised estimates of one item, per group of ``by``; keyed by statistic.

    Which statistics, the item's type says (``QuestionType.linearise``, with one of the
    estimators below): "percent" (one estimate per group and option), and for scales "mean"
    and "percent_agree"; for numbers "mean". Estimates are ordered group by group.
    ``grouping``: ``groups_of(frame, by, codebook)`` computed once by a caller that reuses it.
    """
    return linearise_groupings(frame, design, question, [grouping or groups_of(frame, by, codebook)])[0]


def linearise_groupings(frame: pd.DataFrame, design: variance.Design, question: QuestionInfo,
                        groupings: list[Grouping]) -> list[dict[str, variance.Linearised]]:
    """``linearise_item`` for several groupings of the same item at once (overall and every
    breakdown), which shares the passes over the respondents between them."""
    return question_type(question.type).linearise(frame, design, question, groupings)


def option_estimates(frame, design, question, groupings, top_codes=None) -> list[dict[str, variance.Linearised]]:
    """One answer of several: the percent choosing each substantive option; with ``top_codes``
    (an ordered scale), also the mean of the points and the percent at its favourable end."""
    options = [c for c, _ in question.options if c not in MISSING_CODES]
    option_index = _option_index(frame[question.code], options)
    valid = option_index >= 0
    n_opts = len(options)
    points = np.asarray(options, dtype=np.float64)
    top = np.isin(points, top_codes).astype(np.float64) if top_codes else None
    out = []
    for grouping, (a, cw, b) in zip(groupings, _tallies(design, groupings, valid, option_index[valid], n_opts)):
        cells = design.n_cells
        flat = (cells, grouping.n * n_opts)

        def per_option(x):  # cells x groups x options -> cells x (groups * options)
            return x.reshape(flat)

        def repeated(x):  # cells x groups -> the same total for every option of the group
            return np.repeat(x, n_opts, axis=1)

        a_total, cw_total, b_total = a.sum(axis=2), cw.sum(axis=2), b.sum(axis=2)
        n_group = a_total.sum(axis=0)
        lins = {"percent": variance.ratio_means(
            design, repeated(a_total), per_option(a), repeated(cw_total), per_option(cw),
            repeated(b_total), per_option(b), per_option(b), np.repeat(n_group, n_opts))}
        if top is not None:
            lins["mean"] = variance.ratio_means(
                design, a_total, a @ points, cw_total, cw @ points, b_total, b @ points,
                b @ points ** 2, n_group)
            agree = b @ top
            lins["percent_agree"] = variance.ratio_means(
                design, a_total, a @ top, cw_total, cw @ top, b_total, agree, agree, n_group)
        out.append(lins)
    return out


def mask_estimates(frame, design, question, groupings) -> list[dict[str, variance.Linearised]]:
    """Several answers (a bit mask): the percent choosing each option, of those answering."""
    cells = design.n_cells
    masks = frame[question.code]
    valid = masks.notna().to_numpy()
    mask_values = masks.fillna(0).to_numpy(dtype=np.int64)[valid]
    codes = [c for c, _ in question.options]
    bases = _tallies(design, groupings, valid)
    chosen = [_tallies(design, groupings, valid, y=((mask_values & multi_bit(c)) != 0).astype(np.float64))
              for c in codes]
    out = []
    for g, grouping in enumerate(groupings):
        n_z, wz, q0 = (s.reshape(cells, grouping.n) for s in bases[g])
        stack = [np.stack([per_code[g][i].reshape(cells, grouping.n) for per_code in chosen], axis=2)
                 .reshape(cells, -1) for i in range(3)]

        def repeated(x):
            return np.repeat(x, len(codes), axis=1)

        out.append({"percent": variance.ratio_means(
            design, repeated(n_z), stack[0], repeated(wz), stack[1], repeated(q0), stack[2], stack[2],
            np.repeat(n_z.sum(axis=0), len(codes)))})
    return out


def number_estimates(frame, design, question, groupings) -> list[dict[str, variance.Linearised]]:
    """A number: its mean, of those answering."""
    cells = design.n_cells
    y = frame[question.code].to_numpy(dtype=np.float64)
    valid = ~np.isnan(y)
    bases = _tallies(design, groupings, valid)
    totals = _tallies(design, groupings, valid, y=y[valid], squares=True)
    out = []
    for grouping, base, total in zip(groupings, bases, totals):
        n_z, wz, q0 = (s.reshape(cells, grouping.n) for s in base)
        t_y, wy, q1, q2 = (s.reshape(cells, grouping.n) for s in total)
        out.append({"mean": variance.ratio_means(design, n_z, t_y, wz, wy, q0, q1, q2, n_z.sum(axis=0))})
    return out


def ranking_estimates(frame, design, question, groupings, ranks: int) -> list[dict[str, variance.Linearised]]:
    """A ranking (packed codes, question_types/ranking.py), per group and option, of those who
    answered: "percent", the percent ranking the option first, and "mean_rank", its mean place
    (1 to ``ranks``; an option not ranked counts as ``ranks + 1``). The mean ranks carry the
    unweighted count of respondents at each place and unranked (``cell_counts``)."""
    from ..questionnaire.question_types.ranking import places

    cells = design.n_cells
    column = frame[question.code]
    valid = column.notna().to_numpy()
    codes = [c for c, _ in question.options]
    place = places(column.to_numpy(dtype=np.int64, na_value=0)[valid], codes, ranks)  # answers x options
    # Per option: respondents by place (1..ranks, then unranked), whose sums give everything.
    by_place = [_tallies(design, groupings, valid, place[:, o] - 1, ranks + 1) for o in range(len(codes))]
    rank = np.arange(1, ranks + 2, dtype=np.float64)
    out = []
    for g, grouping in enumerate(groupings):
        tallies = [per_option[g] for per_option in by_place]  # options x [a, cw, b], cells x groups x places
        a, cw, b = tallies[0][0].sum(axis=2), tallies[0][1].sum(axis=2), tallies[0][2].sum(axis=2)

        def stacked(f):  # cells x (groups * options)
            return np.stack([f(t) for t in tallies], axis=2).reshape(cells, -1)

        def repeated(x):
            return np.repeat(x, len(codes), axis=1)

        n_group = np.repeat(a.sum(axis=0), len(codes))
        first = [stacked(lambda t, i=i: t[i][:, :, 0]) for i in range(3)]
        t_rank, w_rank, q_rank = (stacked(lambda t, i=i: t[i] @ rank) for i in range(3))
        q2_rank = stacked(lambda t: t[2] @ rank ** 2)
        mean_rank = variance.ratio_means(design, repeated(a), t_rank, repeated(cw), w_rank, repeated(b), q_rank,
                                         q2_rank, n_group)
        # Respondents per group, option and place (1..ranks, then unranked): the whole table.
        table = np.stack([t[0].sum(axis=0) for t in tallies], axis=1)  # groups x options x places
        mean_rank.cell_counts = np.rint(table).astype(np.int64).reshape(grouping.n * len(codes), ranks + 1)
        out.append({"percent": variance.ratio_means(design, repeated(a), first[0], repeated(cw), first[1],
                                                    repeated(b), first[2], first[2], n_group),
                    "mean_rank": mean_rank})
    return out


def first_choice_table(series: pd.Series, question: QuestionInfo) -> pd.DataFrame:
    """A ranking's first choices: respondents ranking each option first, of those who answered."""
    from ..questionnaire.question_types.ranking import MAX_CODE

    first = series.dropna().to_numpy(dtype=np.int64) & MAX_CODE  # the first place: the lowest bits
    return _counts_table(question, [int(np.count_nonzero(first == code)) for code, _ in question.options], len(first))


def estimated_options(question: QuestionInfo) -> list[int]:
    """The options that get a percentage (the type says which: every option of a multiple
    choice, the substantive ones of the others)."""
    return question_type(question.type).estimated_options(question)


def scale_of(statistic: str) -> float:
    """Percentages are published on 0-100, means as they are."""
    return 100.0 if statistic.startswith("percent") else 1.0


def estimate_records(lins: dict[str, variance.Linearised], groups: list, question: QuestionInfo) -> list[dict]:
    """Linearised estimates as records: SE, 95% CI, count, n and df per group, statistic and option."""
    rows = []
    for statistic, lin in lins.items():
        per_option = statistic in question_type(question.type).per_option_statistics
        options = estimated_options(question) if per_option else [None]
        rows += _rows(lin, groups, statistic, options, scale_of(statistic),
                      proportion=statistic.startswith("percent"))
    return rows


def tidy_estimates(lins: dict[str, variance.Linearised], groups: list, question: QuestionInfo) -> pd.DataFrame:
    return pd.DataFrame(estimate_records(lins, groups, question), columns=ESTIMATE_COLUMNS)


def estimate_item(frame: pd.DataFrame, design: variance.Design, question: QuestionInfo,
                  by: str | None = None, codebook=None) -> pd.DataFrame:
    """Every estimate of one item (per group of ``by``) with SE, 95% CI, n and df, as a tidy frame."""
    groups = groups_of(frame, by, codebook)
    return tidy_estimates(linearise_item(frame, design, question, grouping=groups), groups.groups, question)


def group_gap(frame: pd.DataFrame, design: variance.Design, question: QuestionInfo, by: str,
              first, second, statistic: str, option=None, codebook=None) -> dict:
    """Difference first - second between two groups of ``by`` for one statistic, with CI and test."""
    lin = linearise_item(frame, design, question, by, codebook)[statistic]
    _, groups = _groups(frame, by, codebook)
    if statistic in question_type(question.type).per_option_statistics:
        options = estimated_options(question)
        width, offset = len(options), options.index(option)
    else:
        width, offset = 1, 0
    i = groups.index(first) * width + offset
    j = groups.index(second) * width + offset
    return scaled_gaps(lin, [(i, j)], statistic)[0]


def scaled_gaps(lin: variance.Linearised, pairs: list[tuple[int, int]], statistic: str) -> list[dict]:
    """Differences between estimates i and j of disjoint groups, on the statistic's published scale."""
    scale = scale_of(statistic)
    return [{**gap, **{k: gap[k] * scale for k in ("estimate", "se", "lci", "uci")},
             "n_first": int(lin.n_valid[i]), "n_second": int(lin.n_valid[j])}
            for (i, j), gap in zip(pairs, lin.differences(pairs))]
