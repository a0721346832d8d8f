"""Single choice: one of a list of options, as radio buttons. With ``ordered`` (which end is
the favourable one: first_high or last_high) its answers can be scored into an index."""
from __future__ import annotations

from ..types import CATEGORICAL, ORDERINGS
from .base import require
from .choice import OneChoice


class SingleChoice(OneChoice):
    name = "single_choice"
    label = "Single choice"
    kind = CATEGORICAL
    widget = "choices"

    def check_config(self, config: dict, path: str) -> dict:
        merged = super().check_config(config, path)
        if "ordered" in merged:
            require(merged["ordered"] in ORDERINGS, f"{path}.ordered",
                    f"must be one of {', '.join(ORDERINGS)} (which end of the options is the favourable one)")
        return merged

    def item_settings(self, form, existing_options) -> dict:
        item = super().item_settings(form, existing_options)
        if form.ordered.data:
            item["config"] = {**item.get("config", {}), "ordered": form.ordered.data}
        return item

    def fill_settings(self, form, question) -> None:
        super().fill_settings(form, question)
        form.ordered.data = (question.config or {}).get("ordered", "")


TYPE = SingleChoice()
