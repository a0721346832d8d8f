"""The analysis as a background job (``jobs.KINDS["analysis"]``): what ``flask analyze`` does, run
by the job worker, with each stage on the job's page. One at a time per survey (the job's active
key, shared with publishing: ``jobs.results_key``), so two staff pressing the button do not race to
write the same draft."""
from __future__ import annotations

from flask import current_app

from . import audit
from .analysis.frame import SurveyNotFound
from .analysis.pipeline import STAGES, analyze_survey
from .analysis.weighting import WeightingError
from .extensions import db


def run_job(job, progress) -> dict:
    """Analyse the job's survey; what the job's page shows: the responses and whether weighted,
    the doubts about the inputs, or why the results were not updated (nothing else changes)."""
    from .models import StaffUser

    survey = job.survey

    def stage(name: str) -> None:
        progress(STAGES.index(name) + 1, len(STAGES), name)  # "Drawing the charts: 4 of 5"

    try:
        with db.engine.connect() as connection:
            run = analyze_survey(connection, survey.slug, current_app.config["GENERATED_DIR"], on_stage=stage)
    except (WeightingError, SurveyNotFound) as error:
        return {"refused": str(error)}
    results = run.results
    creator = db.session.get(StaffUser, job.created_by_id) if job.created_by_id else None
    audit.record("analysis.run", f"survey {survey.slug}", user=creator, weighted=results["weighted"],
                 responses=results["n_responses"])
    return {"responses": results["n_responses"], "weighted": results["weighted"],
            "doubts": [doubt["message"] for doubt in results["methodology"].get("doubts", [])]}
