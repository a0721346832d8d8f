"""5-point scale: agreement or satisfaction, points coded 1 to 5 with "don't know" (-1) and
"prefer not to say" (-2) apart; its options come from its config, not from the definition."""
from __future__ import annotations

from ..types import DONT_KNOW, MISSING_LABELS, ORDINAL, SCALES
from .base import MISSING_NAMES, require
from .choice import OneChoice


def check_missing(merged: dict, path: str) -> list[str]:
    missing = merged.get("missing", ["dont_know"])
    require(isinstance(missing, list) and all(m in MISSING_NAMES for m in missing), f"{path}.missing",
            f"must be a list drawn from {', '.join(MISSING_NAMES)}")
    return missing


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

    def check_config(self, config: dict, path: str) -> dict:
        merged = super().check_config(config, path)
        require(merged["scale"] in SCALES, f"{path}.scale", f"must be one of {', '.join(SCALES)}")
        merged["missing"] = check_missing(merged, path)
        return merged

    def generated_options(self, config: dict) -> list[tuple[int, str]]:
        return scale_options(config["scale"], tuple(MISSING_NAMES[m] for m in config["missing"]))


TYPE = Scale()
