"""0-10 scale: eleven points from 0 to 10 with words at both ends ("Not at all" ... "Completely")
and, if the survey wants it, "don't know" apart. The vendors' trust scores are means of such
items. Stored as the point itself (0 to 10; "don't know" -1). Estimates: the mean (0-10) and
the share answering 7 to 10, with their SEs; an index takes the points as 0 to 100."""
from __future__ import annotations

import numpy as np

from ..types import DONT_KNOW, MISSING_LABELS, ORDINAL
from .base import SettingsGroup, require
from .choice import OneChoice

POINTS = range(0, 11)
ENDS = {"low_label": "Not at all", "high_label": "Completely"}
END_LENGTH = 60


def _fields() -> dict:
    from wtforms import BooleanField, StringField
    from wtforms.validators import Length, Optional

    return {
        "low_label": StringField("Words at 0", default=ENDS["low_label"],
                                 validators=[Optional(), Length(max=END_LENGTH)]),
        "high_label": StringField("Words at 10", default=ENDS["high_label"],
                                  validators=[Optional(), Length(max=END_LENGTH)]),
        "dont_know": BooleanField("Also offer \"Don't know\"", default=True),
    }


SETTINGS = SettingsGroup("scale_0_10", "0-10 scale", _fields)


class Scale0To10(OneChoice):
    name = "scale_0_10"
    label = "0-10 scale"
    kind = ORDINAL
    default_config = {**ENDS, "dont_know": True}
    options_source = "generated"
    widget = "choices"
    ordered_points = True
    choices_class = "points"
    top_codes = (7, 8, 9, 10)
    headline_statistic = "percent_agree"
    settings_groups = (SETTINGS,)

    def check_config(self, config: dict, path: str) -> dict:
        merged = super().check_config(config, path)
        for key in ENDS:
            value = merged[key]
            require(isinstance(value, str) and value.strip(), f"{path}.{key}", "must be words for that end")
            require(len(value) <= END_LENGTH, f"{path}.{key}", f"is longer than {END_LENGTH} characters")
        require(isinstance(merged["dont_know"], bool), f"{path}.dont_know", "must be true or false")
        require(not merged.get("random_order"), f"{path}.random_order", "a scale's points keep their order")
        return merged

    def generated_options(self, config: dict) -> list[tuple[int, str]]:
        labels = {0: f"0 – {config['low_label']}", 10: f"10 – {config['high_label']}"}
        options = [(point, labels.get(point, str(point))) for point in POINTS]
        return options + ([(DONT_KNOW, MISSING_LABELS[DONT_KNOW])] if config["dont_know"] else [])

    def synthetic(self, question, synthesis):
        values = np.clip(np.round(6.0 + 2.0 * synthesis.latent()), 0, 10).astype(np.int64)
        values[synthesis.rng.random(synthesis.n) < synthesis.dont_know_p] = DONT_KNOW
        return "values", values

    def index_points(self, question):
        return [code for code, _ in question.options if code >= 0]

    def locked_settings(self, before: dict, after: dict) -> list[str]:
        if bool(before.get("dont_know", True)) != bool(after.get("dont_know", True)):
            return ["its \"don't know\" option cannot change"]
        return []

    def item_settings(self, form, existing_options) -> dict:
        return {"config": {"low_label": (form.low_label.data or "").strip() or ENDS["low_label"],
                           "high_label": (form.high_label.data or "").strip() or ENDS["high_label"],
                           "dont_know": bool(form.dont_know.data)}}

    def fill_settings(self, form, question) -> None:
        config = {**self.default_config, **(question.config or {})}
        form.low_label.data, form.high_label.data = config["low_label"], config["high_label"]
        form.dont_know.data = config["dont_know"]


TYPE = Scale0To10()
