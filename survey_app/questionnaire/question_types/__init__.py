"""The question types, one module each, and the registry through which shared code reaches
them (``question_type(name)``). Adding a type: a new module here with a ``TYPE`` instance of a
``base.QuestionType`` subclass, added to ``_MODULES``; a resident widget template under
``templates/question_types/`` if it needs a new one."""
from __future__ import annotations

import importlib

from .base import DefinitionError, QuestionType

# In the order the designer offers them.
_MODULES = ("single_choice", "dropdown", "multiple_choice", "scale", "scale_0_10", "matrix", "ranking", "numeric",
            "text")

QUESTION_TYPES: dict[str, QuestionType] = {}
for _module in _MODULES:
    _type = importlib.import_module(f"{__name__}.{_module}").TYPE
    assert _type.name not in QUESTION_TYPES, f"two question types named {_type.name!r}"
    QUESTION_TYPES[_type.name] = _type


def question_type(name: str) -> QuestionType:
    try:
        return QUESTION_TYPES[name]
    except KeyError:
        raise ValueError(f"unknown question type {name!r}; expected one of {', '.join(QUESTION_TYPES)}") from None


def of_published_item(item: dict) -> QuestionType:
    """The type behind an item of the results (an index publishes a mean as a number does)."""
    return question_type("numeric" if item.get("type") == "index" else item.get("type"))


def top_codes(type_name: str) -> tuple[int, ...]:
    """The favourable end of a type's scale (``QuestionType.top_codes``); none for other items
    of the results, such as indices."""
    kind = QUESTION_TYPES.get(type_name)
    return kind.top_codes if kind else ()


def settings_groups() -> list[tuple[object, list[QuestionType]]]:
    """Each group of settings on the staff question form, with the types that use it."""
    groups: dict[str, tuple[object, list[QuestionType]]] = {}
    for kind in QUESTION_TYPES.values():
        for group in kind.settings_groups:
            groups.setdefault(group.key, (group, []))[1].append(kind)
    return list(groups.values())


__all__ = ["QUESTION_TYPES", "DefinitionError", "QuestionType", "of_published_item", "question_type",
           "settings_groups", "top_codes"]
