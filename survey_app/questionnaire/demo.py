"""The demo "Community Trust in Policing" survey (wording is ours).

Constructs follow the police-trust literature summarised in shared/DOMAIN.md:
overall trust, procedural justice (respect, voice, neutrality, trustworthy
motives), effectiveness, perceived safety, cooperation, recent contact, and
the demographics used for weighting and breakdowns.
"""
from __future__ import annotations

DEMO_SLUG = "community-trust"

DISTRICTS = ["North", "South", "East", "West", "Central"]
AGE_BANDS = ["16-24", "25-34", "35-44", "45-54", "55-64", "65 or older"]
GENDERS = ["Woman", "Man", "Non-binary or another gender"]
RACE_ETHNICITY = [
    "Hispanic or Latino",
    "White",
    "Black or African American",
    "Asian",
    "Another group or more than one",
]
SAFETY = ["Very safe", "Somewhat safe", "Somewhat unsafe", "Very unsafe"]
CONTACT_TYPES = [
    "I called the police for help or to report something",
    "I was stopped while driving",
    "I was stopped while walking or in a public place",
    "I was a victim of or witness to a crime",
    "At a community meeting or event",
    "Another kind of contact",
]

PREFER_NOT = {"code": -2, "label": "Prefer not to say"}


def _options(labels, prefer_not_to_say=False):
    options = [{"code": i, "label": label} for i, label in enumerate(labels, start=1)]
    return options + ([PREFER_NOT] if prefer_not_to_say else [])


def _agree(code, text, construct, required=True, reverse=False):
    item = {
        "code": code,
        "type": "scale",
        "text": text,
        "required": required,
        "config": {"scale": "agreement", "missing": ["dont_know"]},
        "construct": construct,
    }
    if reverse:
        item["reverse_coded"] = True
    return item


COMMUNITY_TRUST = {
    "slug": DEMO_SLUG,
    "title": "Community Trust in Policing",
    "introduction": (
        "The city wants to know how residents see the police in their neighbourhood. "
        "The survey takes about five minutes. Your answers are anonymous: we do not ask "
        "for your name or address, and we do not store your IP address or device details."
    ),
    "consent_text": (
        "Taking part is voluntary. You can skip any question that is not marked as required. "
        "Results are published only as totals for groups of at least 10 people."
    ),
    # No promise of when: results may be published while the survey is still open, and again.
    "thank_you_text": "Thank you for taking part. The results will be published on the city's website.",
    "min_cell_size": 10,
    "pages": [
        {
            "title": "Trust and fair treatment",
            "questions": [
                _agree("trust_overall", "Overall, I trust the police in my city.", "overall_trust"),
                _agree(
                    "trust_do_right",
                    "I am confident that the police in my neighbourhood do what is right.",
                    "overall_trust",
                ),
                _agree("respect", "The police treat the people they deal with respectfully.", "fair_treatment"),
                _agree("listen", "The police take the time to listen to residents' concerns.", "fair_treatment"),
                _agree(
                    "fair_decisions",
                    "The police make decisions based on facts, not on who a person is.",
                    "fair_treatment",
                ),
                _agree(
                    "explain",
                    "When the police act, they explain why to the people involved.",
                    "fair_treatment",
                ),
                _agree(
                    "equal_treatment",
                    "The police treat people differently depending on their race or background.",
                    "fair_treatment",
                    reverse=True,
                ),
                _agree(
                    "effective",
                    "The police do a good job of dealing with the problems that matter in my neighbourhood.",
                    "effectiveness",
                ),
            ],
        },
        {
            "title": "Safety and cooperation",
            "questions": [
                {
                    "code": "safe_day",
                    "type": "single_choice",
                    "text": "How safe do you feel walking alone in your neighbourhood during the day?",
                    "required": True,
                    "construct": "safety",
                    "config": {"ordered": "first_high"},
                    "options": _options(SAFETY),
                },
                {
                    "code": "safe_night",
                    "type": "single_choice",
                    "text": "How safe do you feel walking alone in your neighbourhood after dark?",
                    "required": True,
                    "construct": "safety",
                    "config": {"ordered": "first_high"},
                    "options": _options(SAFETY),
                },
                _agree(
                    "report_crime",
                    "If I saw a crime happen, I would report it to the police.",
                    "cooperation",
                ),
                _agree(
                    "work_with",
                    "I would work with the police to solve a problem in my neighbourhood.",
                    "cooperation",
                ),
            ],
        },
        {
            "title": "Contact with the police",
            "questions": [
                {
                    "code": "contact_12m",
                    "type": "single_choice",
                    "text": "In the past 12 months, have you had any contact with the police in the city?",
                    "required": True,
                    "options": _options(["Yes", "No"]),
                },
                {
                    "code": "contact_type",
                    "type": "multiple_choice",
                    "text": "What kind of contact was it? Choose all that apply.",
                    "construct": "recent_contact",
                    "display_condition": {"question": "contact_12m", "in": [1]},
                    "options": _options(CONTACT_TYPES),
                },
                {
                    "code": "contact_satisfaction",
                    "type": "scale",
                    "text": "How satisfied were you with the way the police handled it?",
                    "construct": "recent_contact",
                    "display_condition": {"question": "contact_12m", "in": [1]},
                    "config": {"scale": "satisfaction", "missing": ["dont_know"]},
                },
                {
                    "code": "top_problem",
                    "type": "text",
                    "text": "What is the most important safety problem in your neighbourhood?",
                    "help_text": "Optional. Please do not include names or other personal details.",
                    "config": {"max_length": 500, "multiline": True},
                },
            ],
        },
        {
            "title": "About you",
            "questions": [
                {
                    "code": "district",
                    "type": "dropdown",
                    "construct": "demographics",
                    "text": "Which police district do you live in?",
                    "help_text": "The district map is on the city's website.",
                    "required": True,
                    "options": _options(DISTRICTS),
                },
                {
                    "code": "age_band",
                    "type": "single_choice",
                    "construct": "demographics",
                    "text": "How old are you?",
                    "required": True,
                    "options": _options(AGE_BANDS, prefer_not_to_say=True),
                },
                {
                    "code": "gender",
                    "type": "single_choice",
                    "construct": "demographics",
                    "text": "What is your gender?",
                    "required": True,
                    "options": _options(GENDERS, prefer_not_to_say=True),
                },
                {
                    "code": "race_ethnicity",
                    "type": "single_choice",
                    "construct": "demographics",
                    "text": "Which group best describes you?",
                    "required": True,
                    "options": _options(RACE_ETHNICITY, prefer_not_to_say=True),
                },
                {
                    "code": "years_in_city",
                    "type": "numeric",
                    "text": "How many years have you lived in the city?",
                    "help_text": "A whole number from 0 to 100. Write 0 if less than a year.",
                    "config": {"min": 0, "max": 100, "decimals": 0},
                },
            ],
        },
    ],
}


# Population aged 16+ of the demo city (made-up, census-like figures): what staff would
# enter from census tables to weight the demo survey. (variable, source, {option code: count})
DEMO_POPULATION = [
    ("district", "Census 2020, table P1 (made-up demo figures)",
     {1: 44_000, 2: 38_000, 3: 46_000, 4: 32_000, 5: 40_000}),
    ("age_band", "ACS 2024 5-year, table B01001 (made-up demo figures)",
     {1: 30_000, 2: 42_000, 3: 36_000, 4: 32_000, 5: 30_000, 6: 30_000}),
    ("gender", "ACS 2024 5-year (made-up demo figures)", {1: 101_000, 2: 97_000, 3: 2_000}),
    ("race_ethnicity", "ACS 2024 5-year, table B03002 (made-up demo figures)",
     {1: 58_000, 2: 84_000, 3: 36_000, 4: 14_000, 5: 8_000}),
]
