"""Dropdown: one of a long list of options (districts, age bands), as a select box. Like a
single choice otherwise, ``ordered`` included."""
from __future__ import annotations

from .single_choice import SingleChoice


class Dropdown(SingleChoice):
    name = "dropdown"
    label = "Dropdown"
    widget = "dropdown"
    field_class_name = "SelectField"
    browser_answer = "select"


TYPE = Dropdown()
