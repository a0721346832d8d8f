"""Weights: raking (iterative proportional fitting) to population margins.

``rake`` calibrates unit starting weights so that the weighted count of
respondents in every category of every weighting variable equals the
population figure staff entered (census tables). The raking itself is svy's
(``Sample.weighting.rake``, a Rust IPF kernel), run to a relative tolerance far
below anything published (``RAKE_TOLERANCE``), so that the weights after each
margin's last step equal the final weights; the variance code (``variance.py``)
relies on that.

Choices made here, stated in the methodology:

* Respondents who did not give a weighting variable ("prefer not to say",
  or skipped) form a category of their own whose target is their sample
  share of the population: they keep their share, and the other categories
  are raked to the population shares of the rest. Every respondent stays in
  the design and the controls stay plain counts, as R's ``rake`` expects.
* Margins that describe slightly different totals (tables from different
  sources) are each used as shares of the largest total; the relative
  difference is reported, and staff are warned (``doubts.py``).
* A population category with no respondent cannot be raked to: that is an
  error naming the variable and category, never a silent zero.

Without margins, ``unweighted`` gives every respondent weight 1 and results
say they are unweighted.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from ..questionnaire.types import MISSING_CODES
from .frame import Codebook

NOT_REPORTED = -99  # the category of respondents who did not give a weighting variable
# Raking stops when every margin category's weighted count is within this fraction of its target
# (svy's ``tol``: the largest |achieved - target| / target): RAKE_TOLERANCE, or n machine epsilons
# for n respondents if that is more (``rake_tolerance``). Relative, so the same at any size, and
# reachable in floating point: a sum of n weights is exact only to about n epsilons in the worst
# case (Higham, Accuracy and Stability of Numerical Algorithms, section 4.2), and IPF converges to
# that noise, not below it (measured: 4e-12 at a million respondents, 3e-11 at ten million; an
# absolute 1e-12 was missed at a million by 1.35e-12 and 1.40e-12). Either is still a millionth
# of a person in a thousand, far below any published figure's precision.
RAKE_TOLERANCE = 1e-10
RAKE_MAX_ITERATIONS = 1000
# R's rake() (epsilon = 1, its default) stops when no category's weighted count moves by one
# person. Weights that miss RAKE_TOLERANCE but meet that are used, with a warning for staff;
# only margins that cannot be met even so are refused.
R_EPSILON = 1.0


class WeightingError(ValueError):
    """Margins that cannot be raked to; the message says what to fix."""


@dataclass(frozen=True)
class Margin:
    """Population counts for the categories of one weighting variable (a question code)."""

    variable: str
    population: dict[int, float]  # option code -> population count
    source: str = ""


@dataclass
class Weights:
    """One weight per response, with what the variance code needs to credit the raking."""

    values: np.ndarray  # aligned with the frame's rows
    weighted: bool
    # Per margin: the category code of every respondent (NOT_REPORTED where not given),
    # and the controls actually raked to (including NOT_REPORTED's fixed share).
    categories: dict[str, np.ndarray] = field(default_factory=dict)
    controls: dict[str, dict[int, float]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    total_mismatch: float = 0.0  # (largest - smallest) / largest of the margins' totals
    totals: dict[str, float] = field(default_factory=dict)  # each margin's population total, as entered
    rake_error: float = 0.0  # largest |achieved - target| / target over the margins' categories
    trim: float | None = None  # cap on weights, times the mean weight, if trimmed
    n_trimmed: int = 0  # weights that were over the cap
    _cells: np.ndarray | None = field(default=None, repr=False, compare=False)

    def summary(self) -> dict:
        """What the methodology reports about the weights (JSON-ready)."""
        w = self.values
        return {
            "weighted": self.weighted,
            "variables": list(self.controls),
            "sources": dict(self.sources),
            "design_effect": self.design_effect if len(w) else None,
            "effective_n": self.effective_n,
            "min_weight_ratio": float(w.min() / w.mean()) if len(w) else None,
            "max_weight_ratio": float(w.max() / w.mean()) if len(w) else None,
            "trim": self.trim,
            "n_trimmed": self.n_trimmed,
            "total_mismatch": self.total_mismatch,
            "rake_error": self.rake_error,
        }

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def design_effect(self) -> float:
        """Kish's design effect due to weighting: n * sum(w^2) / sum(w)^2."""
        w = self.values
        return float(len(w) * np.dot(w, w) / w.sum() ** 2) if len(w) else float("nan")

    @property
    def effective_n(self) -> float:
        """Kish's effective sample size: sum(w)^2 / sum(w^2)."""
        w = self.values
        return float(w.sum() ** 2 / np.dot(w, w)) if len(w) else 0.0

    def cells(self) -> np.ndarray:
        """Cell id of every respondent in the cross-classification of the margins (0 if unweighted)."""
        if self._cells is None:
            self._cells = cell_index(self.categories, self.n)
        return self._cells


def dense_rank(codes: np.ndarray) -> tuple[np.ndarray, int]:
    """Each value's rank among the distinct values present (as np.unique's inverse), and how many
    there are; through a table over the values' range when it is small (codes, cells), which
    takes one pass where np.unique sorts (seconds at ten million respondents)."""
    if len(codes) == 0:
        return codes.astype(np.int64), 0
    low, high = int(codes.min()), int(codes.max())
    if high - low > 4 * len(codes) + 1_000_000:
        present, index = np.unique(codes, return_inverse=True)
        return index.astype(np.int64), len(present)
    present = np.bincount(codes - low, minlength=high - low + 1) > 0
    rank = np.cumsum(present) - 1
    return rank[codes - low].astype(np.int64), int(present.sum())


def cell_members(cell: np.ndarray, n_cells: int) -> np.ndarray:
    """One respondent of each cell (any: what is constant within a cell is read off it)."""
    member = np.zeros(n_cells, dtype=np.int64)
    member[cell] = np.arange(len(cell))
    return member


def cell_index(categories: dict[str, np.ndarray], n: int) -> np.ndarray:
    """Cell id of every respondent in the cross-classification of the variables' categories,
    cells numbered in the order of their categories' codes; all zeros without variables."""
    cell = np.zeros(n, dtype=np.int64)
    for codes in categories.values():
        index, levels = dense_rank(np.asarray(codes, dtype=np.int64))
        cell = cell * max(levels, 1) + index
    return dense_rank(cell)[0] if n else cell


def unweighted(n: int) -> Weights:
    return Weights(values=np.ones(n), weighted=False)


def load_margins(connection: Connection, survey_id: int) -> list:
    """The population margins staff entered for a survey, one ``Margin`` per variable."""
    figures: dict[str, dict[int, float]] = {}
    sources: dict[str, str] = {}
    for variable, code, population, source in connection.execute(
        text("SELECT variable, category_code, population, source FROM population_margin "
             "WHERE survey_id = :sid ORDER BY id"), {"sid": survey_id}
    ):
        figures.setdefault(variable, {})[int(code)] = float(population)
        if source:
            sources.setdefault(variable, source)
    return [Margin(v, p, sources.get(v, "")) for v, p in figures.items()]


def respondent_categories(frame: pd.DataFrame, variable: str) -> np.ndarray:
    """Option codes of a single-answer column, with skipped and missing codes as NOT_REPORTED."""
    column = frame[variable]
    codes = np.asarray(column.astype("float64").fillna(NOT_REPORTED), dtype=np.int64)
    codes[np.isin(codes, MISSING_CODES)] = NOT_REPORTED
    return codes


def _labels(codebook: Codebook | None, variable: str) -> dict[int, str]:
    if codebook is None:
        return {}
    try:
        return dict(codebook.question(variable).options)
    except KeyError:
        return {}


def build_controls(frame: pd.DataFrame, margins: list[Margin],
                   codebook: Codebook | None = None) -> tuple[dict, dict, float]:
    """Per margin, respondents' categories and the population counts to rake to; checks them first."""
    if not margins:
        raise WeightingError("No population margins were given.")
    n = len(frame)
    totals = [sum(m.population.values()) for m in margins]
    if any(t <= 0 for t in totals):
        bad = margins[[t <= 0 for t in totals].index(True)].variable
        raise WeightingError(f"The population figures for '{bad}' add up to zero.")
    # Tables from different sources may disagree on the total: each is used as shares of the
    # largest, whatever order the tables were entered in (only the weights' scale depends on it).
    grand_total = max(totals)
    mismatch = (grand_total - min(totals)) / grand_total

    variables = [m.variable for m in margins]
    repeated = {v for v in variables if variables.count(v) > 1}
    if repeated:
        raise WeightingError(f"'{sorted(repeated)[0]}' has population figures twice.")
    categories, controls = {}, {}
    for margin in margins:
        if margin.variable not in frame.columns:
            raise WeightingError(f"'{margin.variable}' is not a question of this survey.")
        labels = _labels(codebook, margin.variable)
        codes = respondent_categories(frame, margin.variable)
        present, counts = np.unique(codes, return_counts=True)
        counted = dict(zip(present.tolist(), counts.tolist()))
        for code, population in margin.population.items():
            if population < 0:
                raise WeightingError(f"The population of {margin.variable} = "
                                     f"'{labels.get(code, code)}' is negative.")
            if population > 0 and counted.get(code, 0) == 0:
                raise WeightingError(
                    f"No respondent is in {margin.variable} = '{labels.get(code, code)}', so the "
                    f"responses cannot be weighted to its population of {population:,.0f}. Combine "
                    f"it with a neighbouring category, or leave {margin.variable} out of the weighting."
                )
        unknown = [c for c in counted if c != NOT_REPORTED and c not in margin.population]
        if unknown:
            raise WeightingError(
                f"The population figures for {margin.variable} have no figure for "
                f"'{labels.get(unknown[0], unknown[0])}', which {counted[unknown[0]]} respondents chose."
            )
        # Population shares, applied to the respondents who reported this variable.
        share_reported = 1.0 - counted.get(NOT_REPORTED, 0) / n
        scale = grand_total * share_reported / sum(margin.population.values())
        control = {code: pop * scale for code, pop in margin.population.items() if pop > 0}
        if NOT_REPORTED in counted:
            control[NOT_REPORTED] = grand_total * (1.0 - share_reported)
        categories[margin.variable] = codes
        controls[margin.variable] = control
    return categories, controls, mismatch


def margin_totals(margins: list[Margin]) -> dict[str, float]:
    return {m.variable: float(sum(m.population.values())) for m in margins}


def rake_tolerance(n: int) -> float:
    """The relative tolerance raking n respondents is held to (see RAKE_TOLERANCE)."""
    return max(RAKE_TOLERANCE, n * float(np.finfo(np.float64).eps))


def margin_errors(values: np.ndarray, categories: dict, controls: dict) -> tuple[float, float]:
    """How far weights are from the controls: the largest |achieved - target| / target, and the
    largest |achieved - target| (in the controls' units: people), over every category."""
    relative = absolute = 0.0
    for variable, control in controls.items():
        codes = categories[variable]
        low = int(codes.min()) if len(codes) else 0
        achieved = np.bincount(codes - low, values)  # codes are small integers (NOT_REPORTED is -99)
        for code, target in control.items():
            miss = abs((achieved[code - low] if 0 <= code - low < len(achieved) else 0.0) - target)
            absolute = max(absolute, miss)
            relative = max(relative, miss / target)
    return relative, absolute


def _rake_from(start: np.ndarray, categories: dict, controls: dict) -> tuple[np.ndarray, float]:
    """Weights raked from ``start`` to the controls, and their largest relative margin error.

    Raking multiplies every weight by one factor per category of each margin, so respondents of
    the same cell (the same category of every margin) keep the ratio of their starting weights:
    svy rakes the cells, one row each with its respondents' summed starting weight, and each
    respondent gets its cell's factor. The same iterations on a few hundred rows instead of
    millions (measured at a million respondents: 1.9 s raking the respondents, most of it in
    svy's Python around its kernel); tests check the weights against svy raking respondents.
    """
    import polars as pl
    import svy

    cell = cell_index(categories, len(start))
    n_cells = int(cell.max()) + 1 if len(cell) else 0
    start_sums = np.bincount(cell, start, minlength=n_cells)
    member = cell_members(cell, n_cells)
    data = pl.DataFrame({**{v: np.asarray(c)[member] for v, c in categories.items()}, "_w": start_sums})
    sample = svy.Sample(data, svy.Design(wgt="_w"))
    try:
        raked = sample.weighting.rake(
            controls=controls, tol=rake_tolerance(len(start)), max_iter=RAKE_MAX_ITERATIONS, wgt_name="_raked",
            on_nonconvergence="ignore",  # judged below, as R judges it
        )
    except Exception as error:  # svy's own message names the problem; ours says what to do
        raise WeightingError(
            f"The responses could not be weighted to these margins ({error}). Check that the "
            "population figures are consistent, or weight on fewer variables."
        ) from error
    with np.errstate(invalid="ignore", divide="ignore"):
        factors = raked.data["_raked"].to_numpy() / start_sums
    values = start * factors[cell]
    relative, absolute = margin_errors(values, categories, controls)
    if not np.isfinite(values).all() or (relative > rake_tolerance(len(start)) and not absolute < R_EPSILON):
        raise WeightingError(
            f"The responses could not be weighted to these margins: after {RAKE_MAX_ITERATIONS} rounds "
            f"a category's weighted count is still {absolute:,.1f} from its population figure. The "
            "margins ask for something the responses cannot give (often two variables whose categories "
            "overlap, such as an age band only one district has): combine categories, or weight on "
            "fewer variables.")
    return values, relative


TRIM_MAX_ROUNDS = 50


def rake(frame: pd.DataFrame, margins: list[Margin], codebook: Codebook | None = None,
         trim: float | None = None) -> Weights:
    """Rake unit weights to the margins with svy; raise WeightingError with a clear message if impossible.

    ``trim``: optional cap on a weight, as a multiple of the mean weight (5 is
    common). Trimming and raking alternate, each raking starting from the
    capped weights, until the raked weights are under the cap (to 0.1%): the
    margins still hold exactly, and the capped weights act as base weights,
    which is how the variance treats them (as R's ``trimWeights`` does).
    """
    categories, controls, mismatch = build_controls(frame, margins, codebook)
    n = len(frame)
    values, error = _rake_from(np.ones(n), categories, controls)
    trimmed = 0
    if trim is not None:
        if trim <= 1:
            raise WeightingError("The trimming cap must be more than 1 (times the mean weight).")
        for _ in range(TRIM_MAX_ROUNDS):
            cap = trim * values.mean()
            over = values > cap * 1.001
            if not over.any():
                break
            trimmed = max(trimmed, int(over.sum()))
            values, error = _rake_from(np.minimum(values, cap), categories, controls)
        else:
            raise WeightingError(
                f"The weights cannot be kept under {trim:g} times the mean while matching the margins: "
                "raise the cap, or weight on fewer or coarser categories."
            )
    return Weights(values=values, weighted=True, categories=categories, controls=controls,
                   sources={m.variable: m.source for m in margins}, total_mismatch=mismatch,
                   totals=margin_totals(margins), trim=trim, n_trimmed=trimmed, rake_error=error)
