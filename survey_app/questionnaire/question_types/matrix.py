"""Matrix: several statements on one scale, shown as one group. It stores no answer of its
own: each statement (a row) is a 5-point scale question of its own, with its own code,
construct and reverse coding, which is what the resident answers and the analysis reads."""
from __future__ import annotations

from ..settings import MAX_TEXT_LENGTH
from ..types import GROUP, SCALES
from .base import DefinitionError, QuestionType, new_code, require
from .base import MISSING_NAMES
from .choice import OPTIONS
from .scale import SCALE, check_missing, locked_scale, scale_from_form, scale_options, scale_to_form


def rows_from_lines(text: str | None, matrix_code: str) -> list[dict]:
    """A matrix's statements from the editor: "code | statement" (add "| reversed" for reverse-coded);
    a line with the statement only gets the code <matrix>_<n>."""
    from ..editing import EditRefused

    rows = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 1:
            code, statement, flags = f"{matrix_code}_{len(rows) + 1}"[:64], parts[0], []
        else:
            code, statement, flags = parts[0], parts[1], parts[2:]
        if not statement:
            raise EditRefused(f"statements, line {number}: the statement is empty")
        row = {"code": code, "text": statement}
        if any(flag.lower() in ("reversed", "reverse", "reverse-coded") for flag in flags):
            row["reverse_coded"] = True
        rows.append(row)
    return rows


class Matrix(QuestionType):
    name = "matrix"
    label = "Matrix (several statements on one scale)"
    kind = GROUP
    default_config = {"scale": "agreement"}
    stores_answers = False
    stored_in = ""
    row_type = "scale"
    widget = "matrix"
    settings_groups = (SCALE, OPTIONS)  # the options box holds the statements

    def item_settings(self, form, existing_options) -> dict:
        return {"config": scale_from_form(form), "rows": rows_from_lines(form.options.data, form.code.data.strip())}

    def fill_settings(self, form, question) -> None:
        scale_to_form(form, question.config or {})
        form.options.data = "\n".join(f"{r.code} | {r.text}" + (" | reversed" if r.reverse_coded else "")
                                      for r in sorted(question.rows, key=lambda q: q.position))

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
        from ..definition import text_of, translations_of  # the definition's own rules for texts

        rows = item.get("rows")
        require(isinstance(rows, list) and len(rows) >= 2, f"{path}.rows", "a matrix needs at least two statements")
        options = scale_options(config["scale"], tuple(MISSING_NAMES[m] for m in config["missing"]))
        checked = []
        for r, row in enumerate(rows):
            rpath = f"{path}.rows[{r}]"
            require(isinstance(row, dict), rpath, "must be an object")
            code = new_code(row.get("code"), codes, f"{rpath}.code")
            reverse = row.get("reverse_coded", False)
            require(isinstance(reverse, bool), f"{rpath}.reverse_coded", "must be true or false")
            construct = row.get("construct", item.get("construct"))
            require(construct is None or isinstance(construct, str), f"{rpath}.construct", "must be text")
            text = text_of(row, "text", rpath, required=True, limit=MAX_TEXT_LENGTH)
            checked.append(dict(code=code, type=self.row_type, text=text, required=bool(item.get("required", False)),
                                config=dict(config), construct=construct, reverse_coded=reverse,
                                options=list(options), translations=translations_of(row, rpath, ("text",), options)))
        return checked

    def locked_settings(self, before: dict, after: dict) -> list[str]:
        return locked_scale(before, after)

    def condition_target(self, options):
        return None  # its rows are what later conditions refer to

    def exports_options(self) -> bool:
        return False

    def shown(self, question, answer, may_read_text: bool):
        raise ValueError("a matrix stores no answers of its own")


TYPE = Matrix()
