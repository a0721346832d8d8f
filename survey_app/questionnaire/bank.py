"""The built-in question bank: police-trust items grouped by construct, in our own words.

Each item is a question in the definition format (``definition.py``), tagged
with its construct (which index it feeds), its scale and whether it is
reverse-coded (agreeing means *less* trust). Staff add items from here to a
survey, and can add their own items to the bank (``BankItem`` rows), which
appear beside these.

Constructs follow the research on police legitimacy (Tyler's process-based
model, Jackson & Gau, Trinkner et al.); see the README and DOMAIN notes.
"""
from __future__ import annotations

import copy

from .demo import AGE_BANDS, CONTACT_TYPES, DISTRICTS, GENDERS, RACE_ETHNICITY, SAFETY
from .types import DEMOGRAPHICS

CONSTRUCTS = {
    "overall_trust": "Overall trust",
    "fair_treatment": "Fair and respectful treatment",
    "legitimacy": "Legitimacy",
    "effectiveness": "Effectiveness",
    "safety": "Perceived neighbourhood safety",
    "recent_contact": "Satisfaction with recent contact",
    "cooperation": "Willingness to report and cooperate",
    DEMOGRAPHICS: "Demographics",
}


def _agree(code, text, construct, reverse=False, scale="agreement"):
    item = {"code": code, "type": "scale", "text": text, "construct": construct, "required": False,
            "config": {"scale": scale, "missing": ["dont_know"]}}
    if reverse:
        item["reverse_coded"] = True
    return item


def _score(code, text, construct, low, high):
    return {"code": code, "type": "scale_0_10", "text": text, "construct": construct, "required": False,
            "config": {"low_label": low, "high_label": high, "dont_know": True}}


def _options(labels, prefer_not_to_say=False):
    options = [{"code": i, "label": label} for i, label in enumerate(labels, start=1)]
    return options + ([{"code": -2, "label": "Prefer not to say"}] if prefer_not_to_say else [])


BUILT_IN = [
    # Overall trust
    _agree("trust_overall", "Overall, I trust the police in my city.", "overall_trust"),
    _agree("trust_do_right", "I am confident that the police in my neighbourhood do what is right.",
           "overall_trust"),
    _agree("trust_rely", "I can rely on the police to be there when I need them.", "overall_trust"),
    # Fair and respectful treatment (procedural justice)
    _agree("respect", "The police treat the people they deal with respectfully.", "fair_treatment"),
    _agree("listen", "The police take the time to listen to residents' concerns.", "fair_treatment"),
    _agree("fair_decisions", "The police make decisions based on facts, not on who a person is.",
           "fair_treatment"),
    _agree("explain", "When the police act, they explain why to the people involved.", "fair_treatment"),
    _agree("equal_treatment", "The police treat people differently depending on their race or background.",
           "fair_treatment", reverse=True),
    # Legitimacy
    _agree("obey", "People should do what the police tell them, even if they disagree.", "legitimacy"),
    _agree("moral_values", "The police stand up for values that matter to me.", "legitimacy"),
    _agree("proper_authority", "The police use their powers within the law.", "legitimacy"),
    _agree("overstep", "The police often go beyond what the law allows them to do.", "legitimacy",
           reverse=True),
    # Effectiveness
    _agree("effective", "The police do a good job of dealing with the problems that matter in my "
           "neighbourhood.", "effectiveness"),
    _agree("respond_fast", "The police come quickly when someone calls for help.", "effectiveness"),
    _agree("prevent_crime", "The police do a good job of preventing crime in my area.", "effectiveness"),
    # Perceived safety
    {"code": "safe_day", "type": "single_choice", "construct": "safety", "required": False,
     "text": "How safe do you feel walking alone in your neighbourhood during the day?",
     "config": {"ordered": "first_high"}, "options": _options(SAFETY)},
    {"code": "safe_night", "type": "single_choice", "construct": "safety", "required": False,
     "text": "How safe do you feel walking alone in your neighbourhood after dark?",
     "config": {"ordered": "first_high"}, "options": _options(SAFETY)},
    _agree("safe_park", "I feel safe using the parks in my neighbourhood.", "safety"),
    # Recent contact
    {"code": "contact_12m", "type": "single_choice", "construct": "recent_contact", "required": False,
     "text": "In the past 12 months, have you had any contact with the police in the city?",
     "options": _options(["Yes", "No"])},
    {"code": "contact_type", "type": "multiple_choice", "construct": "recent_contact", "required": False,
     "text": "What kind of contact was it? Choose all that apply.", "options": _options(CONTACT_TYPES)},
    _agree("contact_satisfaction", "How satisfied were you with the way the police handled it?",
           "recent_contact", scale="satisfaction"),
    _agree("contact_respectful", "The officers I dealt with treated me with respect.", "recent_contact"),
    # Trust and safety scores on 0-10, as vendors report them (their mean; the share at 7-10)
    _score("trust_score", "On a scale from 0 to 10, how much do you trust the police in your city?",
           "overall_trust", "Not at all", "Completely"),
    _score("fairness_score", "On a scale from 0 to 10, how fairly do the police treat people in your "
           "neighbourhood?", "fair_treatment", "Not at all fairly", "Completely fairly"),
    _score("safety_score", "On a scale from 0 to 10, how safe do you feel in your neighbourhood?",
           "safety", "Not at all safe", "Completely safe"),
    # Cooperation
    _agree("report_crime", "If I saw a crime happen, I would report it to the police.", "cooperation"),
    _agree("work_with", "I would work with the police to solve a problem in my neighbourhood.",
           "cooperation"),
    _agree("give_info", "I would give the police information to help find a suspect.", "cooperation"),
    # Demographics
    {"code": "district", "type": "dropdown", "construct": DEMOGRAPHICS, "required": False,
     "text": "Which police district do you live in?", "options": _options(DISTRICTS)},
    {"code": "age_band", "type": "single_choice", "construct": DEMOGRAPHICS, "required": False,
     "text": "How old are you?", "options": _options(AGE_BANDS, prefer_not_to_say=True)},
    {"code": "gender", "type": "single_choice", "construct": DEMOGRAPHICS, "required": False,
     "text": "What is your gender?", "options": _options(GENDERS, prefer_not_to_say=True)},
    {"code": "race_ethnicity", "type": "single_choice", "construct": DEMOGRAPHICS, "required": False,
     "text": "Which group best describes you?", "options": _options(RACE_ETHNICITY, prefer_not_to_say=True)},
    {"code": "years_in_city", "type": "numeric", "construct": DEMOGRAPHICS, "required": False,
     "text": "How many years have you lived in the city?", "config": {"min": 0, "max": 100, "decimals": 0}},
]


def built_in_items() -> list[dict]:
    """A fresh copy of every built-in item (callers may change what they get)."""
    return copy.deepcopy(BUILT_IN)


def item_by_code(code: str, extra: list[dict] = ()) -> dict | None:
    for item in list(BUILT_IN) + list(extra):
        if item["code"] == code:
            return copy.deepcopy(item)
    return None


def by_construct(extra: list[dict] = ()) -> dict[str, list[dict]]:
    """Items grouped by construct, constructs in the order above (staff items after the built-in ones)."""
    grouped = {construct: [] for construct in CONSTRUCTS}
    for item in list(BUILT_IN) + list(extra):
        grouped.setdefault(item["construct"], []).append(copy.deepcopy(item))
    return grouped
