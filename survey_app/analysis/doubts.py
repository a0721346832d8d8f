"""What in an analysis's inputs is doubtful: said to staff (the weighting and results pages,
`flask analyze`) and, where it changes how a reader should take a figure, in the published
methodology. Each doubt is a dict: ``kind``, ``public`` (shown to readers), ``message`` (English,
for staff and the CLI) and the figures behind it, from which the public page words it in its own
language.

* ``margin_totals``: population tables that add up to different totals (tables from different
  sources or years). Each is used as shares of the largest total (weighting.build_controls), so
  the order the tables were entered in does not matter, but figures from different populations
  may be a mistake.
* ``rake_error``: raking stopped short of its tolerance but within one person of every target,
  as R's ``rake()`` accepts (weighting.R_EPSILON).
* ``index_alpha``: an index whose items do not hang together. Cronbach's alpha under 0.7 is below
  the usual floor for a scale (Nunnally 1978); under 0.5 (a negative alpha above all, which
  usually means an item runs the other way and should be reverse-coded) readers are told too.
"""
from __future__ import annotations

TOTALS_DIFFER = 0.001  # population tables whose totals differ by more than 0.1%
ALPHA_FLOOR = 0.7
ALPHA_POOR = 0.5


def margin_totals(totals: dict[str, float]) -> dict | None:
    """A doubt if the population tables (total by variable) disagree on the total population."""
    if len(totals) < 2:
        return None
    high, low = max(totals.values()), min(totals.values())
    if high <= 0 or (high - low) / high <= TOTALS_DIFFER:
        return None
    listed = "; ".join(f"{variable} {total:,.0f}" for variable, total in totals.items())
    return {"kind": "margin_totals", "public": True, "totals": dict(totals), "difference": (high - low) / high,
            "message": (f"The population tables add up to different totals ({listed}): {100 * (high - low) / high:.1f}% "
                        f"apart. Each was used as shares of the largest, {high:,.0f}. If they describe the same "
                        "population, check that they come from the same year and area.")}


def rake_error(error: float, tolerance: float) -> dict | None:
    if error <= tolerance:
        return None
    return {"kind": "rake_error", "public": False, "error": error,
            "message": (f"Raking stopped with a category's weighted count {error:.1e} of its target away (relative), "
                        f"short of the tolerance of {tolerance:.0e} but within one person of every target, "
                        "which R's rake() accepts. The figures are usable; fewer or coarser margins would "
                        "converge fully.")}


def index_alpha(index: dict) -> dict | None:
    alpha = index.get("alpha")
    if alpha is None or alpha >= ALPHA_FLOOR:
        return None
    why = (" A negative alpha usually means an item runs the other way: check which items are reverse-coded."
           if alpha < 0 else "")
    return {"kind": "index_alpha", "public": alpha < ALPHA_POOR, "code": index["code"], "alpha": alpha,
            "message": (f"The index “{index.get('label') or index['code']}” has a Cronbach's alpha of {alpha:.2f}, "
                        f"under {ALPHA_FLOOR}: its items do not measure one thing well.{why}")}


def doubts(totals: dict[str, float], rake: tuple[float, float] | None, indices: list[dict]) -> list[dict]:
    """Every doubt about one analysis: ``totals`` of the population tables by variable, ``rake``
    (its largest relative margin error, the tolerance) if weighted, the indices with their alpha."""
    found = [margin_totals(totals), rake_error(*rake) if rake else None] + [index_alpha(i) for i in indices]
    return [doubt for doubt in found if doubt is not None]
