"""5-point scale: agreement or satisfaction, points coded 1 to 5 with "don't know" (-1) and
"prefer not to say" (-2) apart; its options come from its config, not from the definition."""
from __future__ import annotations

import numpy as np

from ..types import DONT_KNOW, MISSING_CODES, MISSING_LABELS, ORDINAL, SCALES, TOP_BOX_CODES
from .base import MISSING_NAMES, SettingsGroup, require


def _scale_fields() -> dict:
    from wtforms import SelectField, SelectMultipleField
    from wtforms.fields.choices import SelectChoice

    return {
        # Checked by check_config with the rest of the question (a type not chosen posts nothing here).
        "scale": SelectField("Scale", choices=[SelectChoice(s, s.capitalize()) for s in SCALES],
                             default="agreement", validate_choice=False),
        "missing": SelectMultipleField("Also offer", choices=[SelectChoice("dont_know", "Don't know"),
                                                              SelectChoice("prefer_not_to_say", "Prefer not to say")],
                                       validate_choice=False),
    }


SCALE = SettingsGroup("scale", "Scale", _scale_fields)
SYNTHETIC_CUTS = np.array([-1.4, -0.55, 0.25, 1.05])  # a resident's trust (standard normal) -> 5 points


def scale_from_form(form) -> dict:
    return {"scale": form.scale.data, "missing": list(form.missing.data or [])}


def scale_to_form(form, config: dict) -> None:
    form.scale.data = config.get("scale", "agreement")
    form.missing.data = config.get("missing", ["dont_know"])
from .choice import OneChoice


def check_missing(merged: dict, path: str) -> list[str]:
    missing = merged.get("missing", ["dont_know"])
    require(isinstance(missing, list) and all(m in MISSING_NAMES for m in missing), f"{path}.missing",
            f"must be a list drawn from {', '.join(MISSING_NAMES)}")
    return missing


def locked_scale(before: dict, after: dict) -> list[str]:
    """A scale's points and its non-answers give stored codes their meaning: they stay."""
    reasons = []
    if before.get("scale") != after.get("scale"):
        reasons.append("its scale cannot change")
    if sorted(before.get("missing", ["dont_know"])) != sorted(after.get("missing", ["dont_know"])):
        reasons.append("its \"don't know\" / \"prefer not to say\" options cannot change")
    return reasons


def scale_options(scale: str, missing: tuple[int, ...] = (DONT_KNOW,)) -> list[tuple[int, str]]:
    """(code, label) pairs of a preset scale: points 1..5, then the missing codes asked for."""
    try:
        labels = SCALES[scale]
    except KeyError:
        raise ValueError(f"unknown scale {scale!r}; expected one of {', '.join(SCALES)}") from None
    return [(i, label) for i, label in enumerate(labels, start=1)] + [(code, MISSING_LABELS[code]) for code in missing]


class Scale(OneChoice):
    name = "scale"
    label = "5-point scale"
    kind = ORDINAL
    default_config = {"scale": "agreement"}
    options_source = "generated"
    widget = "choices"
    ordered_points = True
    choices_class = "scale"
    top_codes = TOP_BOX_CODES
    headline_statistic = "percent_agree"
    settings_groups = (SCALE,)

    def item_settings(self, form, existing_options) -> dict:
        return {"config": scale_from_form(form)}

    def fill_settings(self, form, question) -> None:
        scale_to_form(form, question.config or {})

    def check_config(self, config: dict, path: str) -> dict:
        merged = super().check_config(config, path)
        require(merged["scale"] in SCALES, f"{path}.scale", f"must be one of {', '.join(SCALES)}")
        merged["missing"] = check_missing(merged, path)
        require(not merged.get("random_order"), f"{path}.random_order", "a scale's points keep their order")
        return merged

    def locked_settings(self, before: dict, after: dict) -> list[str]:
        return locked_scale(before, after)

    def index_points(self, question):
        return [code for code, _ in question.options if code not in MISSING_CODES]

    def synthetic(self, question, synthesis):
        values = np.searchsorted(SYNTHETIC_CUTS, synthesis.latent()) + 1
        values[synthesis.rng.random(synthesis.n) < synthesis.dont_know_p] = DONT_KNOW
        return "values", values

    def generated_options(self, config: dict) -> list[tuple[int, str]]:
        return scale_options(config["scale"], tuple(MISSING_NAMES[m] for m in config["missing"]))


TYPE = Scale()
