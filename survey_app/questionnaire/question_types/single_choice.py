"""Single choice: one of a list of options, as radio buttons. With ``ordered`` (which end is
the favourable one: first_high or last_high) its answers can be scored into an index."""
from __future__ import annotations

from ..types import CATEGORICAL, MISSING_CODES, ORDERINGS
from .base import require
from .choice import OneChoice


class SingleChoice(OneChoice):
    name = "single_choice"
    label = "Single choice"
    kind = CATEGORICAL
    widget = "choices"
    breaks_down = True

    def check_config(self, config: dict, path: str) -> dict:
        merged = super().check_config(config, path)
        if "ordered" in merged:
            require(merged["ordered"] in ORDERINGS, f"{path}.ordered",
                    f"must be one of {', '.join(ORDERINGS)} (which end of the options is the favourable one)")
        return merged

    def index_points(self, question):
        """Only ordered options can be scored, the favourable end last."""
        ordered = (question.config or {}).get("ordered")
        if ordered not in ORDERINGS:
            return None
        points = [code for code, _ in question.options if code not in MISSING_CODES]
        return points[::-1] if ordered == "first_high" else points

    def item_settings(self, form, existing_options) -> dict:
        item = super().item_settings(form, existing_options)
        if form.ordered.data:
            item["config"] = {**item.get("config", {}), "ordered": form.ordered.data}
        return item

    def fill_settings(self, form, question) -> None:
        super().fill_settings(form, question)
        form.ordered.data = (question.config or {}).get("ordered", "")


TYPE = SingleChoice()
