"""Matrix: several statements on one scale, shown as one group. It stores no answer of its
own: each statement (a row) is a 5-point scale question of its own, with its own code,
construct and reverse coding, which is what the resident answers and the analysis reads."""
from __future__ import annotations

from ..settings import MAX_TEXT_LENGTH
from ..types import GROUP, SCALES
from .base import DefinitionError, QuestionType, check_code, require
from .scale import check_missing, scale_options
from .base import MISSING_NAMES


class Matrix(QuestionType):
    name = "matrix"
    label = "Matrix (several statements on one scale)"
    kind = GROUP
    default_config = {"scale": "agreement"}
    stores_answers = False
    row_type = "scale"
    widget = "matrix"

    def check_config(self, config: dict, path: str) -> dict:
        merged = super().check_config(config, path)
        require(merged["scale"] in SCALES, f"{path}.scale", f"must be one of {', '.join(SCALES)}")
        merged["missing"] = check_missing(merged, path)
        return merged

    def options_from_definition(self, item: dict, config: dict, path: str) -> list[tuple[int, str]]:
        if "options" in item:
            raise DefinitionError(f"{path}.options", "a matrix's options come from its config.scale")
        return []

    def rows_from_definition(self, item: dict, config: dict, codes: set[str], path: str) -> list[dict]:
        """The statements, each checked as a scale question of its own on the matrix's scale."""
        from ..definition import translations_of  # the definition's own rule for translations

        rows = item.get("rows")
        require(isinstance(rows, list) and len(rows) >= 2, f"{path}.rows", "a matrix needs at least two statements")
        options = scale_options(config["scale"], tuple(MISSING_NAMES[m] for m in config["missing"]))
        checked = []
        for r, row in enumerate(rows):
            rpath = f"{path}.rows[{r}]"
            require(isinstance(row, dict), rpath, "must be an object")
            code = check_code(row.get("code"), f"{rpath}.code")
            require(code not in codes, f"{rpath}.code", f"duplicates question code {code!r}")
            codes.add(code)
            reverse = row.get("reverse_coded", False)
            require(isinstance(reverse, bool), f"{rpath}.reverse_coded", "must be true or false")
            construct = row.get("construct", item.get("construct"))
            require(construct is None or isinstance(construct, str), f"{rpath}.construct", "must be text")
            text = row.get("text", "")
            require(isinstance(text, str), f"{rpath}.text", "must be text")
            require(text.strip(), f"{rpath}.text", "is required")
            require(len(text) <= MAX_TEXT_LENGTH, f"{rpath}.text", f"is longer than {MAX_TEXT_LENGTH} characters")
            checked.append(dict(code=code, type=self.row_type, text=text, required=bool(item.get("required", False)),
                                config=dict(config), construct=construct, reverse_coded=reverse,
                                options=list(options), translations=translations_of(row, rpath, ("text",), options)))
        return checked

    def condition_target(self, options):
        return None  # its rows are what later conditions refer to

    def exports_options(self) -> bool:
        return False

    def shown(self, question, answer, may_read_text: bool):
        raise ValueError("a matrix stores no answers of its own")


TYPE = Matrix()
