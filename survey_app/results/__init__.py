"""Public results pages: /results/<slug>."""
from flask import Blueprint

bp = Blueprint("results", __name__, url_prefix="/results")

from . import routes  # noqa: E402,F401  (registers the views on bp)


@bp.app_template_filter("pct")
def format_percent(value, decimals: int = 1) -> str:
    """A percentage for tables; a dash where there is none."""
    return "–" if value is None else f"{value:.{decimals}f}%"


@bp.app_template_filter("num")
def format_number(value, decimals: int = 2) -> str:
    if value is None:
        return "–"
    return f"{value:,.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{value:,.0f}"
