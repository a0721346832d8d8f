"""Synthetic responses from a fixed seed, for the demo, the tests and the benchmarks.

Each simulated resident has a latent trust score made of district, age,
race/ethnicity and contact effects plus noise; scale items are that score
plus item noise cut into five points, so districts and groups differ the way
they do in real police-trust surveys (younger residents, Black and Hispanic
residents, and people stopped by police report lower trust). The sample is
skewed towards older residents and women, as online samples are, so that
weighting has something to correct later.

Questions the model does not know by code get plausible generic answers
(uniform choices, values inside the bounds), so any questionnaire can be
filled. Plain numpy, no Flask: benchmarks use it directly.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from .questionnaire.question_types import question_type
from .questionnaire.types import PREFER_NOT_TO_SAY, multi_bit

NOT_ANSWERED = -999  # no option has this code (a 0-10 scale has a point 0; missing codes are -1, -2)

# Shares in the simulated (respondent, not population) sample.
DISTRICT_P = [0.22, 0.18, 0.25, 0.15, 0.20]
AGE_P = [0.07, 0.13, 0.17, 0.19, 0.20, 0.22]
GENDER_P = [0.56, 0.41, 0.015]
RACE_P = [0.22, 0.50, 0.15, 0.07, 0.04]
PREFER_NOT_P = 0.02

# Effects on latent trust (standard-deviation units).
DISTRICT_EFFECT = np.array([0.30, -0.45, 0.0, 0.20, -0.20])
AGE_EFFECT = np.array([-0.35, -0.20, -0.05, 0.05, 0.20, 0.35])
RACE_EFFECT = np.array([-0.20, 0.15, -0.55, 0.05, -0.10])
STOPPED_EFFECT = -0.45
DONT_KNOW_P = 0.04
SKIP_OPTIONAL_P = 0.05

# What residents write to "What is the most important safety problem in your neighbourhood?",
# with the themes of the bank's starter codebook a person would give each (the demo codes most
# answers with them: written_coding.code_demo_answers). A few carry personal details, as real
# answers do, for the masking to find.
PROBLEM_THEMES: dict[str, tuple[str, ...]] = {
    "Cars speeding on residential streets": ("Speeding and traffic",),
    "people fly down our street at 50 mph, kids play here": ("Speeding and traffic",),
    "Drivers run the stop sign at 5th and Maple every morning": ("Speeding and traffic",),
    "Street racing at night on the boulevard, nobody stops them": ("Speeding and traffic",),
    "Break-ins to parked cars": ("Property crime",),
    "Packages stolen from doorsteps": ("Property crime",),
    "my car was broken into twice this year and nothing happened": ("Property crime", "Police response times"),
    "catalytic converter thefts all over the block": ("Property crime",),
    "Drug dealing near the park": ("Drugs",),
    "people selling drugs outside the corner store, call me 312-555-0147": ("Drugs",),
    "needles in the playground": ("Drugs", "Homelessness and disorder"),
    "Noise and fights late at night": ("Violence", "Homelessness and disorder"),
    "shootings on weekends, I don't let my kids outside": ("Violence",),
    "gang fights near the high school": ("Violence",),
    "It takes too long for police to come when we call": ("Police response times",),
    "Called 911 about a break in and waited two hours": ("Police response times", "Property crime"),
    "nobody answers the non emergency line": ("Police response times",),
    "Officer Daniels was rude when he stopped my son for nothing": ("Police conduct",),
    "police stop young Black men here all the time for no reason": ("Police conduct",),
    "officers never get out of their cars to talk to people": ("Police conduct",),
    "tents and trash under the bridge": ("Homelessness and disorder",),
    "people sleeping in doorways and the bus shelter": ("Homelessness and disorder",),
    "Graffiti and vandalism": ("Homelessness and disorder",),
    "Poor street lighting at night": ("Lighting and environment",),
    "half the street lights on my block are out": ("Lighting and environment",),
    "overgrown lots and abandoned houses where people hide": ("Lighting and environment",),
    "dogs off leash attack people walking": ("Other",),
    "fireworks every night all summer": ("Other",),
    "nothing really, it is a safe area": (),
}
PROBLEMS = list(PROBLEM_THEMES)


@dataclass
class SyntheticResponses:
    """Answers for ``n`` residents, column by column, keyed by question code."""

    n: int
    submitted_on: list[dt.date]
    values: dict[str, np.ndarray] = field(default_factory=dict)  # option code or mask; 0 = not answered
    numbers: dict[str, np.ndarray] = field(default_factory=dict)  # NaN = not answered
    texts: dict[str, list[str | None]] = field(default_factory=dict)


def _categorical(rng, n, shares, prefer_not=False):
    codes = rng.choice(np.arange(1, len(shares) + 1), size=n, p=np.asarray(shares) / sum(shares))
    if prefer_not:
        codes[rng.random(n) < PREFER_NOT_P] = PREFER_NOT_TO_SAY
    return codes


def _effect(codes, effects):
    """Effect per respondent; 'prefer not to say' and unknown codes get none."""
    out = np.zeros(len(codes))
    known = (codes >= 1) & (codes <= len(effects))
    out[known] = effects[codes[known] - 1]
    return out


@dataclass(frozen=True)
class Synthesis:
    """What a question type gets to make up its answers (``QuestionType.synthetic``): the random
    generator, how many residents, who answered, the resident's trust as drawn for this question
    (``latent()``: standard-normal units, high = trusting, reverse coding applied), problems a
    resident might write about, and how often "don't know" is chosen."""

    rng: np.random.Generator
    n: int
    answered: np.ndarray
    latent: object
    problems: list[str]
    dont_know_p: float


def _option_codes(question):
    return [o.code for o in question.options]


def generate_responses(questions, n: int, seed: int = 2026, field_start=dt.date(2026, 10, 1),
                       field_days: int = 30) -> SyntheticResponses:
    """Answers to ``questions`` (objects with code, type, required, options, config) for n residents."""
    rng = np.random.default_rng(seed)
    by_code = {q.code: q for q in questions}
    district = _categorical(rng, n, DISTRICT_P)
    age = _categorical(rng, n, AGE_P, prefer_not=True)
    gender = _categorical(rng, n, GENDER_P, prefer_not=True)
    race = _categorical(rng, n, RACE_P, prefer_not=True)

    contact_p = np.where(age <= 2, 0.32, 0.20)
    contact = np.where(rng.random(n) < contact_p, 1, 2)
    had_contact = contact == 1
    contact_mask = np.zeros(n, dtype=np.int64)
    stopped = np.zeros(n, dtype=bool)
    type_p = [0.45, 0.25, 0.12, 0.20, 0.10, 0.08]
    for code, p in enumerate(type_p, start=1):
        chosen = had_contact & (rng.random(n) < p)
        contact_mask[chosen] |= multi_bit(code)
        if code in (2, 3):
            stopped |= chosen
    none_chosen = had_contact & (contact_mask == 0)
    contact_mask[none_chosen] = multi_bit(1)

    trust = (
        rng.standard_normal(n)
        + _effect(district, DISTRICT_EFFECT)
        + _effect(age, AGE_EFFECT)
        + _effect(race, RACE_EFFECT)
        + STOPPED_EFFECT * stopped
    )
    # Safety follows district more than trust does.
    safety = 0.4 * trust + 1.2 * _effect(district, DISTRICT_EFFECT) + 0.8 * rng.standard_normal(n)

    known = {"district": district, "age_band": age, "gender": gender, "race_ethnicity": race,
             "contact_12m": contact}
    out = SyntheticResponses(
        n=n,
        submitted_on=[field_start + dt.timedelta(days=int(d)) for d in rng.integers(0, field_days, n)],
    )
    for question in questions:
        kind = question_type(question.type)
        if not kind.stores_answers:
            continue  # a matrix: its rows are questions of their own
        code = question.code
        codes = _option_codes(question)
        answered = np.ones(n, dtype=bool)
        if not question.required:
            answered &= rng.random(n) >= SKIP_OPTIONAL_P
        if code.startswith("contact_") and code != "contact_12m" and "contact_12m" in by_code:
            answered &= had_contact  # asked of those who had contact

        # The demo's own questions follow the story above; any other takes its type's answers.
        if code in known:
            column, values = "values", known[code].copy()
        elif code == "contact_type":
            column, values = "values", contact_mask.copy()
        elif code in ("safe_day", "safe_night"):
            shift = 0.0 if code == "safe_day" else -0.9
            # code 1 = very safe ... 4 = very unsafe
            values = 4 - np.searchsorted(np.array([-1.6, -0.6, 0.5]), safety + shift + 0.5 * rng.standard_normal(n))
            column = "values"
        elif code == "years_in_city" and kind.stored_in == "number":
            high = float(question.config.get("max") if question.config.get("max") is not None else 100)
            values = np.minimum(rng.gamma(2.0, 8.0, n) + np.where(age >= 4, 10, 0), high)
            column, values = "numbers", np.clip(np.round(values, question.config.get("decimals", 0)), 0, high)
        else:
            def latent(question=question):  # drawn only by the types that use it
                drawn = trust + 0.7 * rng.standard_normal(n)
                if question.code == "contact_satisfaction":
                    drawn = drawn - 0.8 * stopped
                return -drawn if question.reverse_coded else drawn

            column, values = kind.synthetic(question, Synthesis(rng, n, answered, latent, PROBLEMS, DONT_KNOW_P))
        if column == "texts":
            out.texts[code] = values
        elif column == "numbers":
            out.numbers[code] = np.where(answered, values, np.nan)
        else:
            values = np.asarray(values, dtype=np.int64)
            if kind.value_is_code:  # only codes the question offers (a customised copy may drop some)
                values[~np.isin(values, codes)] = [c for c in codes if c > 0][0]
            values[~answered] = NOT_ANSWERED
            out.values[code] = values
    return out
