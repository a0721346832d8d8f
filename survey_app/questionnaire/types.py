"""The vocabulary every question type shares: answer codes, scales, kinds of variable, and
the one rule for numbers. The types themselves are in ``question_types/``, one module each.

Plain Python on purpose: the resident form and the analysis both read it, and analysis code
must not pull in Flask or WTForms.
"""
from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

# Survey slugs appear in URLs and folder names; question codes are variable
# names in the analysis and in open data.
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

# Codes for non-substantive answers, kept apart from the scale points so that
# they never enter a mean and are counted separately.
DONT_KNOW = -1
PREFER_NOT_TO_SAY = -2
MISSING_CODES = (DONT_KNOW, PREFER_NOT_TO_SAY)

# Kinds of variable, as the analysis sees them.
CATEGORICAL = "categorical"  # one option, unordered (district, yes/no)
ORDINAL = "ordinal"  # one point on an ordered scale, with a mean
MULTI = "multi"  # any number of options (bit mask)
NUMERIC = "numeric"
TEXT = "text"
RANKING = "ranking"  # up to N options in order (packed codes)
GROUP = "group"  # a matrix: holds its rows (scale questions of their own), stores no answer

# Labels of the 5-point scales, lowest first; stored codes are 1..5.
SCALES: dict[str, list[str]] = {
    "agreement": [
        "Strongly disagree",
        "Disagree",
        "Neither agree nor disagree",
        "Agree",
        "Strongly agree",
    ],
    "satisfaction": [
        "Very dissatisfied",
        "Dissatisfied",
        "Neither satisfied nor dissatisfied",
        "Satisfied",
        "Very satisfied",
    ],
}
# An ordered single-choice item (e.g. "Very safe" ... "Very unsafe") says which end is the
# favourable one, so that it can be scored into an index; unordered items cannot be.
ORDERINGS = ("first_high", "last_high")

# Breakdown variables: questions tagged with this construct (district, age band, ...).
DEMOGRAPHICS = "demographics"

# "Agreeing" means the top two boxes of a 5-point scale.
TOP_BOX_CODES = (4, 5)

MISSING_LABELS = {DONT_KNOW: "Don't know", PREFER_NOT_TO_SAY: "Prefer not to say"}

# Bit masks are stored in a signed 32-bit integer column on every backend.
MAX_MULTI_OPTION_CODE = 31

# Numbers. A numeric question without bounds of its own takes 0 to 1,000,000: survey numbers are
# counts, years, ages and amounts, never below zero, and a million covers any of them a resident
# would give (staff set other bounds where they need them, e.g. -50 to 50, or 0 to 10,000,000).
# Bounds staff set lie within +-NUMBER_LIMIT, so that every accepted number is exact in a float
# and sums of a million of them stay finite.
DEFAULT_NUMBER_RANGE = (0, 1_000_000)
NUMBER_LIMIT = 1_000_000_000
MAX_NUMBER_DECIMALS = 6
MAX_NUMBER_LENGTH = 40  # characters typed; no number a question accepts is longer


def multi_bit(code: int) -> int:
    """The bit a multiple-choice option sets in the stored mask."""
    return 1 << (code - 1)


def number_bounds(config: dict) -> tuple[float, float]:
    """The smallest and largest answer a numeric question takes: its own bounds, or the defaults.

    A bound left empty takes DEFAULT_NUMBER_RANGE's, unless the other bound lies beyond it (a
    largest of -5, a smallest of 2,000,000): then it takes the outer limit, +-NUMBER_LIMIT.
    """
    low, high = config.get("min"), config.get("max")
    default_low, default_high = DEFAULT_NUMBER_RANGE
    if low is None:
        low = default_low if high is None or high >= default_low else -NUMBER_LIMIT
    if high is None:
        high = default_high if low <= default_high else NUMBER_LIMIT
    return low, high


def plain_number(value) -> str:
    """A bound as staff read it: 1,000,000 (not 1e+06), 0.5."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,}"


class AnswerRefused(ValueError):
    """An answer that breaks its question's rule. ``problem`` says which rule (forms turn it into
    words for a resident); the message is for staff and logs."""

    def __init__(self, problem: str, message: str):
        super().__init__(message)
        self.problem = problem


# What can be wrong with a number, in the order it is checked.
NOT_A_NUMBER = "not_a_number"
NOT_FINITE = "not_finite"
OUT_OF_RANGE = "out_of_range"
TOO_MANY_DECIMALS = "too_many_decimals"
NOT_AN_OPTION = "not_an_option"  # coded answers: a value that is none of the question's options

# Digit grouping a resident may type: 1,000,000 / 1.000.000 / 1 000 000 (one separator throughout).
_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:([,. \u00a0\u202f])\d{3})(?:\1\d{3})*$")


def _ungrouped(text: str, decimals: int) -> str:
    """``text`` without digit grouping where that is what it must be: a space, several groups
    (1,000,000 has no decimal reading), or a question that takes whole numbers (1,000). One group
    after a comma or point where decimals are allowed stays a decimal (2,500 is 2.5)."""
    match = _GROUPED.match(text)
    if match and (decimals == 0 or match.group(1) not in ",." or text.count(match.group(1)) > 1):
        return re.sub(r"[,. \u00a0\u202f]", "", text)
    return text


def _decimal(value, decimals: int) -> Decimal:
    """A typed or stored number as an exact Decimal (raises AnswerRefused if it is none)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise AnswerRefused(NOT_A_NUMBER, f"{value!r} is not a number")
    if isinstance(value, float):
        # A stored float as its shortest repr (2.5, not 2.50000000000000011), trailing zeros dropped.
        return Decimal(repr(value)).normalize() if math.isfinite(value) else Decimal(str(value))
    if isinstance(value, int):
        if abs(value) > 10 * NUMBER_LIMIT:  # spares making a Decimal of a thousand-digit integer
            raise AnswerRefused(OUT_OF_RANGE, "the number is far outside the allowed range")
        return Decimal(value)
    text = value.strip()
    if len(text) > MAX_NUMBER_LENGTH:
        raise AnswerRefused(OUT_OF_RANGE if text.lstrip("+-").isdigit() else NOT_A_NUMBER,
                            f"{len(text)} characters is too long for a number")
    try:
        return Decimal(_ungrouped(text, decimals).replace(",", "."))
    except InvalidOperation:
        raise AnswerRefused(NOT_A_NUMBER, f"'{text}' is not a number") from None


def check_number(value, config: dict) -> float:
    """The one rule for a numeric answer, whichever way it comes in (the resident's form; paper and
    phone entry and CSV import through that form; backup import): a finite number within the
    question's bounds (``number_bounds``) with at most its decimals. Takes what was typed (a
    decimal comma is accepted, and digit grouping: 1,000,000) or a stored number; returns the
    float to store, or raises AnswerRefused.

    Checked as an exact Decimal before any float exists: 1e400 or a thousand-digit integer would
    otherwise become infinity on the way in. Typed decimals count as typed (2.50 has two).
    """
    decimals = config.get("decimals", 0)
    number = _decimal(value, decimals)
    if not number.is_finite():
        raise AnswerRefused(NOT_FINITE, f"'{value}' is not a finite number")
    low, high = number_bounds(config)
    if number < Decimal(repr(low)) or number > Decimal(repr(high)):
        raise AnswerRefused(OUT_OF_RANGE, f"{value} is outside {plain_number(low)} to {plain_number(high)}")
    if -number.as_tuple().exponent > decimals:
        raise AnswerRefused(TOO_MANY_DECIMALS, f"{value} has more than {decimals} decimals")
    return float(number)
