"""A survey's settings, each with the one rule it must pass, whichever way it comes in.

Settings reach a survey by several ways: the designer's settings form, the weighting page,
a JSON definition import, the CLI (``flask min-cell-size``, ``flask margins trim``) and a
backup import (``flask import``). Each of them calls ``check`` here, so that a value refused
by one is refused by all, with the same words (a JSON import once took a minimum cell size of
1 that the form refuses, and the published page then showed a group of 3).
``tests/test_settings.py`` walks ``SETTINGS`` and every way in to prove that they agree.

A rule takes what was typed or read (text from a form or the command line, a JSON value)
and returns the value to store, or raises ``SettingRefused`` with a message for the person.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any, Callable

from .types import SLUG_PATTERN

MAX_TEXT_LENGTH = 10_000
MAX_TITLE_LENGTH = 200
# Disclosure control: fewer than 3 makes "minimum cell size" meaningless; public-health practice
# suppresses fewer than 10 (the default). Above 1000 nothing of a city survey would be shown.
MIN_CELL_SIZE_RANGE = (3, 1000)
# Weight trimming caps weights at this many times the mean weight: more than 1 (1 would force every
# weight to the mean), at most 100 (beyond that a cap trims nothing a survey would meet).
WEIGHT_TRIM_RANGE = (1.0, 100.0)
SURVEY_STATUSES = ("draft", "open", "closed")
ACCESS_MODES = ("open", "invitation")
MOMENT_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d")


class SettingRefused(ValueError):
    """A setting's value breaks its rule; ``message`` is for the person who gave it."""

    def __init__(self, name: str, message: str):
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


@dataclass(frozen=True)
class Setting:
    name: str
    label: str
    rule: Callable[[Any], Any]


def _text(limit: int, required: bool = False) -> Callable[[Any], str]:
    def rule(value: Any) -> str:
        if value is None and not required:
            return ""
        if not isinstance(value, str):
            raise ValueError("must be text")
        if required and not value.strip():
            raise ValueError("is required")
        if len(value) > limit:
            raise ValueError(f"must be at most {limit:,} characters")
        return value
    return rule


def _whole_number(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("must be a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit() and len(value.strip()) <= 12:
        return int(value.strip())
    raise ValueError("must be a whole number")


def _min_cell_size(value: Any) -> int:
    low, high = MIN_CELL_SIZE_RANGE
    try:
        number = _whole_number(value)
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise ValueError(f"must be a whole number from {low} to {high}")
    return number


def _weight_trim(value: Any) -> float | None:
    """None (no trimming) for nothing, 'off', 'none' or 0; else a cap in WEIGHT_TRIM_RANGE."""
    low, high = WEIGHT_TRIM_RANGE
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "off", "none", "0")):
        return None
    if isinstance(value, bool):
        raise ValueError("must be a number")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ValueError(f"'{value}' is not a number; give a cap such as 5, or leave it empty") from None
    if not isinstance(value, (int, float)):
        raise ValueError("must be a number")
    if value == 0:
        return None
    if not math.isfinite(value) or not low < value <= high:
        raise ValueError(f"the cap must be more than {low:g} and at most {high:g} (times the mean weight)")
    return float(value)


def _choice(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def rule(value: Any) -> str:
        if value not in choices:
            raise ValueError("must be one of " + ", ".join(choices))
        return value
    return rule


def _language(value: Any) -> str:
    from ..i18n import LANGUAGES

    return _choice(tuple(LANGUAGES))(value)


def _slug(value: Any) -> str:
    if not isinstance(value, str) or not SLUG_PATTERN.match(value):
        raise ValueError("must be 1-80 lowercase letters, digits or hyphens")
    return value


def _moment(value: Any) -> dt.datetime | None:
    """A moment in UTC: empty for none, 'YYYY-MM-DD HH:MM', 'YYYY-MM-DD', or ISO 8601 (backups)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str):
        moment = None
        for pattern in MOMENT_FORMATS:
            try:
                moment = dt.datetime.strptime(value.strip(), pattern)
                break
            except ValueError:
                continue
        if moment is None:
            try:
                moment = dt.datetime.fromisoformat(value.strip())
            except ValueError:
                raise ValueError(f"'{value}' is not a date like 2027-03-01 or 2027-03-01 09:00") from None
    else:
        raise ValueError("must be a date like 2027-03-01 or 2027-03-01 09:00")
    moment = moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment.astimezone(dt.timezone.utc)
    if not 2000 <= moment.year <= 2200:
        raise ValueError("must be a date between the years 2000 and 2200")
    return moment


def _wave(value: Any) -> int:
    try:
        number = _whole_number(value)
    except ValueError:
        number = 0
    if not 1 <= number <= 10_000:
        raise ValueError("must be a whole number of at least 1")
    return number


SETTINGS: dict[str, Setting] = {s.name: s for s in (
    Setting("slug", "Web address", _slug),
    Setting("title", "Title", _text(MAX_TITLE_LENGTH, required=True)),
    Setting("introduction", "Introduction", _text(MAX_TEXT_LENGTH)),
    Setting("consent_text", "Consent text", _text(MAX_TEXT_LENGTH)),
    Setting("thank_you_text", "Thank-you text", _text(MAX_TEXT_LENGTH)),
    Setting("min_cell_size", "Minimum cell size", _min_cell_size),
    Setting("weight_trim", "Weight trimming", _weight_trim),
    Setting("access_mode", "How residents get in", _choice(ACCESS_MODES)),
    Setting("default_language", "Language", _language),
    Setting("status", "Status", _choice(SURVEY_STATUSES)),
    Setting("opens_at", "Opens", _moment),
    Setting("closes_at", "Closes", _moment),
    Setting("wave", "Wave", _wave),
)}


def check(name: str, value: Any) -> Any:
    """The value of setting ``name`` to store; raises SettingRefused with the rule's message."""
    try:
        return SETTINGS[name].rule(value)
    except ValueError as error:
        raise SettingRefused(name, str(error)) from None


def check_window(opens: dt.datetime | None, closes: dt.datetime | None) -> None:
    """The one rule that ties two settings: a survey closes after it opens."""
    if opens and closes and closes <= opens:
        raise SettingRefused("closes_at", "the survey must close after it opens")


def label(name: str) -> str:
    return SETTINGS[name].label
