"""Display logic: show a question or page only when earlier answers match a condition.

A condition is JSON, stored on a question or a page (``display_condition``):

    {"question": "contact_12m", "in": [1]}           # answered with one of these codes
    {"question": "contact_type", "any_of": [2, 3]}   # multiple choice: chose any of these
    {"question": "years_in_city", "min": 5}          # a number at least 5 (also "max")
    {"question": "comment", "answered": true}        # answered at all (false: not answered)
    {"all": [condition, ...]}  /  {"any": [condition, ...]}  /  {"not": condition}

A condition may only refer to questions that come before the item it is on,
so that a resident always sees the cause before the effect. The same
evaluation runs in the browser (static/js/logic.js, which reads the
condition from a data attribute) and on the server, which is what counts:
a hidden question is neither required nor stored, whatever was posted.
Plain Python: no Flask.
"""
from __future__ import annotations

from typing import Any

KEYS = ("question", "in", "any_of", "min", "max", "answered", "all", "any", "not")


class ConditionError(ValueError):
    """A condition that cannot be used; the message names what is wrong."""


def referenced(condition: dict | None) -> set[str]:
    """Codes of the questions a condition depends on."""
    if not condition:
        return set()
    if "all" in condition or "any" in condition:
        return set().union(*(referenced(c) for c in condition.get("all", condition.get("any", []))))
    if "not" in condition:
        return referenced(condition["not"])
    return {condition["question"]}


def check(condition: Any, earlier: dict[str, dict], path: str = "display_condition") -> None:
    """Raise ConditionError unless the condition is well formed and refers to earlier questions.

    ``earlier``: code -> {"type": ..., "options": [codes]} of the questions before the item.
    """
    if not isinstance(condition, dict) or not condition:
        raise ConditionError(f"{path}: must be an object")
    unknown = set(condition) - set(KEYS)
    if unknown:
        raise ConditionError(f"{path}: unknown key {sorted(unknown)[0]!r}")
    for group in ("all", "any"):
        if group in condition:
            parts = condition[group]
            if not isinstance(parts, list) or not parts:
                raise ConditionError(f"{path}.{group}: must be a non-empty list of conditions")
            for i, part in enumerate(parts):
                check(part, earlier, f"{path}.{group}[{i}]")
            return
    if "not" in condition:
        check(condition["not"], earlier, f"{path}.not")
        return
    code = condition.get("question")
    if code not in earlier:
        raise ConditionError(f"{path}.question: {code!r} is not a question before this one (a condition can only "
                             "use answers given earlier in the survey: check the code, and that the question "
                             "comes first)")
    spec = earlier[code]
    tests = [k for k in ("in", "any_of", "min", "max", "answered") if k in condition]
    if not tests:
        raise ConditionError(f"{path}: needs one of in, any_of, min, max or answered")
    for key in ("in", "any_of"):
        if key in condition:
            values = condition[key]
            if not isinstance(values, list) or not values or not all(isinstance(v, int) for v in values):
                raise ConditionError(f"{path}.{key}: must be a non-empty list of option codes")
            missing = [v for v in values if v not in spec.get("options", [])]
            if missing:
                raise ConditionError(f"{path}.{key}: {missing[0]} is not an option code of {code}")
    for key in ("min", "max"):
        if key in condition and (not isinstance(condition[key], (int, float)) or isinstance(condition[key], bool)):
            raise ConditionError(f"{path}.{key}: must be a number")
    if "answered" in condition and not isinstance(condition["answered"], bool):
        raise ConditionError(f"{path}.answered: must be true or false")


def describe(condition: dict | None, questions: dict[str, tuple[str, dict]]) -> str:
    """A condition in words, for staff: "“Any contact in the past 12 months?” is “Yes”".

    ``questions``: code -> (text, {option code: label}) of the survey's questions.
    """
    if not condition:
        return "always"
    if "all" in condition or "any" in condition:
        joiner = " and " if "all" in condition else " or "
        return "(" + joiner.join(describe(c, questions) for c in condition.get("all", condition.get("any", []))) + ")"
    if "not" in condition:
        return f"not {describe(condition['not'], questions)}"
    text, labels = questions.get(condition.get("question"), (condition.get("question"), {}))

    def names(codes) -> str:
        return " or ".join(f"“{labels.get(c, c)}”" for c in codes)

    subject = f"“{text}”"
    if "answered" in condition:
        return f"{subject} is {'answered' if condition['answered'] else 'not answered'}"
    if "in" in condition:
        return f"{subject} is {names(condition['in'])}"
    if "any_of" in condition:
        return f"{subject} includes {names(condition['any_of'])}"
    bounds = []
    if "min" in condition:
        bounds.append(f"at least {condition['min']:g}")
    if "max" in condition:
        bounds.append(f"at most {condition['max']:g}")
    return f"{subject} is {' and '.join(bounds)}"


def evaluate(condition: dict | None, answers: dict[str, Any]) -> bool:
    """Whether an item with this condition is shown, given the answers so far.

    ``answers``: code -> option code (int), list of codes (multiple choice), number, text,
    or None when not answered (or hidden, which counts as not answered).
    """
    if not condition:
        return True
    if "all" in condition:
        return all(evaluate(c, answers) for c in condition["all"])
    if "any" in condition:
        return any(evaluate(c, answers) for c in condition["any"])
    if "not" in condition:
        return not evaluate(condition["not"], answers)
    value = answers.get(condition["question"])
    answered = value not in (None, "", [])
    if "answered" in condition:
        return answered == condition["answered"]
    if not answered:
        return False
    if "in" in condition:
        return value in condition["in"] if not isinstance(value, list) else bool(set(value) & set(condition["in"]))
    if "any_of" in condition:
        chosen = set(value) if isinstance(value, list) else {value}
        return bool(chosen & set(condition["any_of"]))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "min" in condition and value < condition["min"]:
            return False
        if "max" in condition and value > condition["max"]:
            return False
        return True
    return False

