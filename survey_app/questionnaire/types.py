"""Question types: what each stores and how the analysis treats it.

Plain Python on purpose: the resident form (``forms/response.py``) and the
analysis (``analysis/``) both read this registry, and analysis code must not
pull in Flask or WTForms.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class QuestionType:
    name: str
    label: str
    kind: str
    has_options: bool
    default_config: dict = field(default_factory=dict)


QUESTION_TYPES: dict[str, QuestionType] = {
    t.name: t
    for t in (
        QuestionType("single_choice", "Single choice", CATEGORICAL, True),
        QuestionType("dropdown", "Dropdown", CATEGORICAL, True),
        QuestionType("multiple_choice", "Multiple choice", MULTI, True),
        QuestionType("scale", "5-point scale", ORDINAL, True, {"scale": "agreement"}),
        QuestionType("matrix", "Matrix (several statements on one scale)", GROUP, False, {"scale": "agreement"}),
        QuestionType("numeric", "Number", NUMERIC, False, {"min": None, "max": None, "decimals": 0}),
        QuestionType("text", "Free text", TEXT, False, {"max_length": 500, "multiline": True}),
    )
}


def question_type(name: str) -> QuestionType:
    try:
        return QUESTION_TYPES[name]
    except KeyError:
        raise ValueError(
            f"unknown question type {name!r}; expected one of {', '.join(QUESTION_TYPES)}"
        ) from None


def scale_options(scale: str, missing: tuple[int, ...] = (DONT_KNOW,)) -> list[tuple[int, str]]:
    """(code, label) pairs of a preset scale: points 1..5, then the missing codes asked for."""
    try:
        labels = SCALES[scale]
    except KeyError:
        raise ValueError(f"unknown scale {scale!r}; expected one of {', '.join(SCALES)}") from None
    return [(i, label) for i, label in enumerate(labels, start=1)] + [
        (code, MISSING_LABELS[code]) for code in missing
    ]


def multi_bit(code: int) -> int:
    """The bit a multiple-choice option sets in the stored mask."""
    return 1 << (code - 1)
