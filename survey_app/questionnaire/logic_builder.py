"""Display conditions built from rules that staff choose in a form (question, test, answers), so
that nobody has to write JSON: each rule is one of the simple conditions of ``logic.py``, and the
rules are joined by "all" or "any". A condition that rules cannot express (nested groups, say)
stays editable as JSON. Plain Python: no Flask.
"""
from __future__ import annotations

from dataclasses import dataclass, field

MAX_RULES = 3
# test -> words on the form; the builder writes each as logic.py's condition.
TESTS = {
    "is": "is one of",
    "is_not": "is none of",
    "includes": "includes any of (multiple choice)",
    "answered": "is answered",
    "unanswered": "is not answered",
    "at_least": "is at least (a number)",
    "at_most": "is at most (a number)",
}
CHOOSES_ANSWERS = ("is", "is_not", "includes")
TAKES_NUMBER = ("at_least", "at_most")


class BuilderError(ValueError):
    """The rules cannot make a condition; the message says, in words, what to change."""


@dataclass
class Rule:
    question: str = ""
    test: str = ""
    values: list[int] = field(default_factory=list)
    number: str = ""


def condition_from_rules(join: str, rules: list[Rule], questions: dict[str, tuple[str, dict]]) -> dict | None:
    """The condition the rules make (None: no rule, the question is always shown).

    ``questions``: code -> (text, {option code: label}) of the questions a rule may use.
    """
    made = []
    for number, rule in enumerate(rules, start=1):
        if not rule.question and not rule.test and not rule.values and not rule.number.strip():
            continue  # an empty row
        where = f"Rule {number}"
        if rule.question not in questions:
            raise BuilderError(f"{where}: choose the question it is about.")
        text, labels = questions[rule.question]
        if rule.test not in TESTS:
            raise BuilderError(f"{where}: choose how to compare the answer to “{text}”.")
        if rule.test in CHOOSES_ANSWERS:
            if not rule.values:
                raise BuilderError(f"{where}: choose at least one answer of “{text}”.")
            foreign = [v for v in rule.values if v not in labels]
            if foreign:
                raise BuilderError(f"{where}: the answers chosen must be answers of “{text}”, the question the rule "
                                   "is about; choose among them, or choose the question they belong to.")
            key = "any_of" if rule.test == "includes" else "in"
            simple = {"question": rule.question, key: sorted(rule.values)}
            made.append({"not": simple} if rule.test == "is_not" else simple)
        elif rule.test in TAKES_NUMBER:
            try:
                value = float(rule.number.replace(",", "."))
            except ValueError:
                raise BuilderError(f"{where}: enter the number to compare the answer to “{text}” with "
                                   "(for example 5).") from None
            value = int(value) if value.is_integer() else value
            made.append({"question": rule.question, "min" if rule.test == "at_least" else "max": value})
        else:
            made.append({"question": rule.question, "answered": rule.test == "answered"})
    if not made:
        return None
    if len(made) == 1:
        return made[0]
    return {"all" if join != "any" else "any": made}


def rules_from_condition(condition: dict | None) -> tuple[str, list[Rule]] | None:
    """The rules and their join that make ``condition``; None when rules cannot express it."""
    if not condition:
        return "all", []
    parts, join = [condition], "all"
    if "all" in condition or "any" in condition:
        join = "all" if "all" in condition else "any"
        parts = condition[join]
    if len(parts) > MAX_RULES:
        return None
    rules = []
    for part in parts:
        negated = "not" in part
        simple = part["not"] if negated else part
        if not isinstance(simple, dict) or "question" not in simple:
            return None
        if negated and "in" in simple:
            rules.append(Rule(simple["question"], "is_not", list(simple["in"])))
        elif negated:
            return None
        elif "in" in simple:
            rules.append(Rule(simple["question"], "is", list(simple["in"])))
        elif "any_of" in simple:
            rules.append(Rule(simple["question"], "includes", list(simple["any_of"])))
        elif "answered" in simple:
            rules.append(Rule(simple["question"], "answered" if simple["answered"] else "unanswered"))
        elif set(simple) == {"question", "min"}:
            rules.append(Rule(simple["question"], "at_least", number=f"{simple['min']:g}"))
        elif set(simple) == {"question", "max"}:
            rules.append(Rule(simple["question"], "at_most", number=f"{simple['max']:g}"))
        else:
            return None
    return join, rules
