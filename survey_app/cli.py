"""The app's own ``flask`` commands: seed-demo, analyze."""
from __future__ import annotations

import click
from flask import current_app
from sqlalchemy import delete, select

from .analysis.frame import SurveyNotFound
from .analysis.pipeline import analyze_survey
from .extensions import db
from .models import Survey
from .questionnaire.demo import COMMUNITY_TRUST, DEMO_SLUG
from .questionnaire.definition import survey_from_definition
from .responses import insert_synthetic_responses
from .synthetic import generate_responses


def create_demo_survey(responses: int, seed: int) -> Survey:
    """The open demo survey with ``responses`` synthetic responses (the same generator as the tests)."""
    survey = survey_from_definition(COMMUNITY_TRUST)
    survey.status = "open"
    db.session.add(survey)
    db.session.commit()
    batch = generate_responses(survey.questions, responses, seed=seed)
    with db.engine.begin() as connection:
        insert_synthetic_responses(connection, survey, batch)
    return survey


@click.command("seed-demo")
@click.option("--responses", default=1000, show_default=True, type=click.IntRange(0, 5_000_000),
              help="How many synthetic responses to create.")
@click.option("--seed", default=2026, show_default=True, help="Random seed (same seed, same data).")
@click.option("--replace", is_flag=True, help="Delete an existing demo survey and its responses first.")
def seed_demo_command(responses: int, seed: int, replace: bool) -> None:
    """Create the "Community Trust in Policing" demo survey with synthetic responses."""
    existing = db.session.scalar(select(Survey).where(Survey.slug == DEMO_SLUG))
    if existing is not None:
        if not replace:
            click.echo(f"The demo survey '{DEMO_SLUG}' already exists; keeping it (use --replace to recreate).")
            return
        # The database cascades to questions, responses and answers in one statement.
        db.session.execute(delete(Survey).where(Survey.id == existing.id))
        db.session.commit()
    survey = create_demo_survey(responses, seed)
    click.echo(f"Created survey '{survey.slug}' with {len(survey.questions)} questions "
               f"and {responses} synthetic responses (seed {seed}).")


@click.command("analyze")
@click.argument("slug")
def analyze_command(slug: str) -> None:
    """Compute a survey's tables and charts and store them for its results page."""
    try:
        with db.engine.connect() as connection:
            run = analyze_survey(connection, slug, current_app.config["GENERATED_DIR"])
    except SurveyNotFound:
        raise click.ClickException(f"There is no survey with the slug '{slug}'.") from None
    results = run.results
    click.echo(f"Analysed '{slug}': {results['n_responses']} responses, "
               f"{len(results['questions'])} questions -> {run.output_dir}")
    if results["suppressed"]:
        click.echo(f"Fewer than {results['min_cell_size']} responses: no figures are shown yet.")
    click.echo("Timings: " + ", ".join(f"{stage} {seconds:.3f}s" for stage, seconds in run.timings.items()))


def init_app(app) -> None:
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(analyze_command)
