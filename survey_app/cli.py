"""The app's own ``flask`` commands: seed-demo, analyze."""
from __future__ import annotations

import os

import click
from flask import current_app
from sqlalchemy import delete, select

from .analysis.frame import SurveyNotFound, left_out_lines
from .analysis.weighting import Margin, WeightingError
from .analysis.pipeline import analyze_survey
from . import audit, backup, publishing, written_coding
from .extensions import db
from .models import Snapshot, Survey
from .population import MarginsError, margins_csv, parse_margins_csv, save_margins
from .questionnaire.demo import COMMUNITY_TRUST, DEMO_POPULATION, DEMO_SLUG
from .questionnaire import translation
from .questionnaire.definition import survey_from_definition
from .seeding import insert_synthetic_responses
from .synthetic import generate_responses


def create_demo_survey(responses: int, seed: int) -> Survey:
    """The open demo survey with ``responses`` synthetic responses (the same generator as the tests)."""
    survey = survey_from_definition(COMMUNITY_TRUST)
    translation.prefill(survey, "es")  # the demo is in English and Spanish
    survey.status = "open"
    db.session.add(survey)
    db.session.commit()
    save_margins(survey, [Margin(variable, population, source) for variable, source, population in DEMO_POPULATION])
    batch = generate_responses(survey.questions, responses, seed=seed)
    with db.engine.begin() as connection:
        insert_synthetic_responses(connection, survey, batch)
    return survey


def _survey(slug: str) -> Survey:
    survey = db.session.scalar(select(Survey).where(Survey.slug == slug))
    if survey is None:
        raise click.ClickException(f"There is no survey with the slug '{slug}'.")
    return survey


@click.command("seed-demo")
@click.option("--responses", default=1000, show_default=True, type=click.IntRange(0, 5_000_000),
              help="How many synthetic responses to create.")
@click.option("--seed", default=2026, show_default=True, help="Random seed (same seed, same data).")
@click.option("--replace", is_flag=True, help="Delete an existing demo survey and its responses first.")
def seed_demo_command(responses: int, seed: int, replace: bool) -> None:
    """Create the "Community Trust in Policing" demo survey with synthetic responses, and a
    staff account to look at it with when the site has none (not in production)."""
    _demo_admin()
    existing = db.session.scalar(select(Survey).where(Survey.slug == DEMO_SLUG))
    if existing is not None:
        if not replace:
            click.echo(f"The demo survey '{DEMO_SLUG}' already exists; keeping it (use --replace to recreate).")
            return
        # The database cascades to questions, responses and answers in one statement.
        db.session.execute(delete(Survey).where(Survey.id == existing.id))
        db.session.commit()
        db.session.expunge_all()  # the deleted rows' objects must not stand in for new rows
    survey = create_demo_survey(responses, seed)
    coded = written_coding.code_demo_answers(survey, seed=seed)
    click.echo(f"Created survey '{survey.slug}' with {len(survey.questions)} questions "
               f"and {responses} synthetic responses (seed {seed}); {coded} written answers coded into themes.")


DEMO_ADMIN = "demo-admin@city.example"


def _demo_admin() -> None:
    """A first admin account for a demo site with none, its random password written to
    DEMO_ADMIN_FILE (never in production: there the first account is `flask create-admin`'s)."""
    import secrets
    from pathlib import Path

    from sqlalchemy import func

    from .accounts import create_user
    from .models import StaffUser

    kept = Path(current_app.config["DEMO_ADMIN_FILE"])
    if current_app.config["SURVEY_ENV"] == "production":
        return
    if db.session.scalar(select(func.count()).select_from(StaffUser)):
        return
    password = secrets.token_urlsafe(12)
    user = create_user(DEMO_ADMIN, "Demo Admin", password, "admin")
    audit.record("staff.create", f"staff {user.email}", user=user, role="admin", via="flask seed-demo")
    db.session.commit()
    kept.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(kept, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(f"Staff sign-in for the demo: {DEMO_ADMIN}, password {password}\n")
    click.echo(f"Created the demo's staff account {DEMO_ADMIN}; its password is in {kept}.")


@click.command("analyze")
@click.argument("slug")
def analyze_command(slug: str) -> None:
    """Compute a survey's tables and charts and store them for its results page."""
    try:
        with db.engine.connect() as connection:
            run = analyze_survey(connection, slug, current_app.config["GENERATED_DIR"])
    except SurveyNotFound:
        raise click.ClickException(f"There is no survey with the slug '{slug}'.") from None
    except WeightingError as error:
        raise click.ClickException(f"The results of '{slug}' were not updated: {error} "
                                   f"(`flask margins show {slug}` lists the figures.)") from None
    results = run.results
    themed = sum(1 for q in results["questions"] if q.get("coding"))
    click.echo(f"Analysed '{slug}': {results['n_responses']} responses, "
               f"{len(results['questions']) - themed} questions, {len(results['indices'])} indices, "
               + (f"themes of {themed} written question{'' if themed == 1 else 's'}, " if themed else "") +
               f"{'weighted' if results['weighted'] else 'unweighted'} -> {run.output_dir}")
    for line in left_out_lines(run.left_out):  # exact counts for staff; the results page withholds small ones
        click.echo(line)
    for doubt in results["methodology"].get("doubts", []):
        click.echo(f"Warning: {doubt['message']}", err=True)
    if results["suppressed"]:
        click.echo(f"Fewer than {results['min_cell_size']} responses: no figures are shown yet.")
    more = (results.get("differencing") or {}).get("responses_needed")
    if more:
        click.echo(f"Not publishable yet: its number of responses is within {results['min_cell_size'] - 1} of a "
                   f"published version's; {more} more responses are needed (`flask publish {slug}` explains).")
    click.echo("Timings: " + ", ".join(f"{stage} {seconds:.3f}s" for stage, seconds in run.timings.items()))


@click.command("publish")
@click.argument("slug")
@click.option("--if-unpublished", is_flag=True, help="Do nothing if a version is already published (make demo).")
def publish_command(slug: str, if_unpublished: bool) -> None:
    """Publish a survey's latest analysis as its next results version (never changes earlier ones)."""
    survey = _survey(slug)
    if if_unpublished and db.session.scalar(select(Snapshot.id).where(Snapshot.survey_id == survey.id)):
        click.echo(f"'{slug}' already has published results; left as they are.")
        return
    try:
        snapshot = publishing.publish(survey, current_app.config["GENERATED_DIR"])
    except publishing.PublishError as error:
        raise click.ClickException(str(error)) from None
    audit.record("results.publish", f"survey {slug}", user=None, version=snapshot.version)
    db.session.commit()
    click.echo(f"Published '{slug}' version {snapshot.version}: /results/{slug}/v{snapshot.version}")


@click.command("export")
@click.argument("slug")
@click.argument("output", type=click.File("w", encoding="utf-8"), default="-")
def export_command(slug: str, output) -> None:
    """Back up a survey (definition, settings, margins, invitation hashes, raw responses) as JSON Lines."""
    survey = backup.find_survey(slug)
    if survey is None:
        raise click.ClickException(f"There is no survey with the slug '{slug}'.")
    count = backup.export_survey(survey, output)
    click.echo(f"Exported '{slug}' with {count} responses.", err=True)


@click.command("import")
@click.argument("backup_file", type=click.File("r", encoding="utf-8"))
def import_command(backup_file) -> None:
    """Restore a survey from a `flask export` file into this database (all or nothing)."""
    try:
        survey, count = backup.import_survey(backup_file)
    except backup.RestoreError as error:
        raise click.ClickException(f"Nothing was restored: {error}") from None
    click.echo(f"Restored '{survey.slug}' with {count} responses.")


@click.group("margins")
def margins_group() -> None:
    """Population margins for weighting (census figures), per survey."""


@margins_group.command("import")
@click.argument("slug")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
def margins_import_command(slug: str, csv_file) -> None:
    """Replace a survey's margins with those in CSV_FILE (columns variable, category, population, source)."""
    survey = _survey(slug)
    try:
        margins = parse_margins_csv(csv_file.read(), survey)
    except MarginsError as error:
        click.echo(f"Nothing was stored: {len(error.errors)} problem(s) in {csv_file.name}:", err=True)
        for line in error.errors:
            click.echo(f"  - {line}", err=True)
        raise SystemExit(1) from None
    save_margins(survey, margins)
    click.echo(f"Stored margins for {', '.join(m.variable for m in margins)} on '{slug}'. "
               f"Run `flask analyze {slug}` to weight the results.")


@margins_group.command("show")
@click.argument("slug")
def margins_show_command(slug: str) -> None:
    """Print a survey's margins as CSV (the import format)."""
    click.echo(margins_csv(_survey(slug)), nl=False)


@margins_group.command("clear")
@click.argument("slug")
def margins_clear_command(slug: str) -> None:
    """Delete a survey's margins: its results become unweighted."""
    save_margins(_survey(slug), [])
    click.echo(f"Deleted the margins of '{slug}'; its results will be unweighted.")


@margins_group.command("trim")
@click.argument("slug")
@click.argument("cap")
def margins_trim_command(slug: str, cap: str) -> None:
    """Cap weights at CAP times the mean weight (e.g. 5), or 'off'."""
    survey = _survey(slug)
    survey.weight_trim = _setting("weight_trim", cap)
    db.session.commit()
    click.echo(f"Weight trimming for '{slug}': {'off' if survey.weight_trim is None else survey.weight_trim}.")


@click.command("min-cell-size")
@click.argument("slug")
@click.argument("k")
def min_cell_size_command(slug: str, k: str) -> None:
    """Set the survey's minimum cell size K: no published figure rests on fewer respondents."""
    survey = _survey(slug)
    k = _setting("min_cell_size", k)
    survey.min_cell_size = k
    db.session.commit()
    click.echo(f"Minimum cell size of '{slug}': {k}. Run `flask analyze {slug}` to apply it.")
    if k < 5:
        click.echo("Warning: cells this small can identify people; 10 is the usual minimum.", err=True)


def _setting(name: str, value: str):
    """A survey setting typed on the command line, by the rule every way in uses."""
    from .questionnaire import settings

    try:
        return settings.check(name, value)
    except settings.SettingRefused as refused:
        raise click.BadParameter(f"{settings.label(refused.name)}: {refused.message}.") from None


@click.command("create-admin")
@click.option("--email", prompt=True, help="The admin's email address (their sign-in name).")
@click.option("--name", prompt=True, help="The admin's name.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Prompted for (hidden) when not given; avoid passing it on a shared machine's command line.")
def create_admin_command(email: str, name: str, password: str) -> None:
    """Create an administrator account (the first account of a new site)."""
    from . import audit
    from .accounts import AccountError, create_user

    try:
        user = create_user(email, name, password, "admin")
    except AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    audit.record("staff.create", f"staff {user.email}", user=user, role="admin", via="flask create-admin")
    db.session.commit()
    click.echo(f"Created admin account {user.email}. Sign in at /staff/login.")


@click.command("purge-drafts")
def purge_drafts_command() -> None:
    """Delete unfinished answers: drafts not saved for 30 days, and every draft of a closed survey.

    Run it daily from a scheduler (README, Deploying). On PostgreSQL it then rewrites the rows
    that a submission, a keyed-in response or an import wrote beside the responses (used
    invitations, the day's data-entry tallies, the import's job), so that no transaction id
    pairs them any more, and vacuums.
    """
    from . import drafts

    count = drafts.purge()
    db.session.commit()
    click.echo(f"Deleted {count} unfinished {'draft' if count == 1 else 'drafts'} "
               f"(not saved for {drafts.DRAFT_DAYS} days, or of a closed survey).")
    if drafts.unlink_transaction_ids(db.engine):
        click.echo("Rewrote used invitations, data-entry tallies and finished import jobs in one transaction; vacuumed "
                   f"{', '.join(drafts.VACUUMED)}.")


@click.group("jobs")
def jobs_group() -> None:
    """Background jobs: imports and other long work started from the staff pages."""


@jobs_group.command("worker")
@click.option("--threads", type=click.IntRange(1, 32), default=None,
              help="Jobs run at once (default: JOB_WORKERS, 2).")
def jobs_worker_command(threads: int | None) -> None:
    """Run queued jobs until stopped (Ctrl-C lets running jobs finish; a job whose worker was
    killed is taken over by the next worker that starts)."""
    from . import jobs

    jobs.worker(current_app._get_current_object(), threads or int(current_app.config["JOB_WORKERS"]))


@jobs_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="Finished jobs too (default: queued and running).")
def jobs_list_command(show_all: bool) -> None:
    """Jobs queued and running (and finished, with --all), newest first."""
    from .jobs import KINDS
    from .models import Job

    query = select(Job).order_by(Job.id.desc()).limit(100)
    if not show_all:
        query = query.where(Job.status.in_(("queued", "running")))
    rows = db.session.scalars(query).all()
    if not rows:
        click.echo("No jobs." if show_all else "No job is queued or running.")
    for job in rows:
        survey = job.survey.slug if job.survey else "-"
        amount = f"{job.done:,}/{job.total:,}" if job.total else f"{job.done:,}"
        click.echo(f"{job.id}\t{job.status}\t{KINDS[job.kind].label}\t{survey}\t{amount}\t{job.phase}"
                   + (f"\t{job.error}" if job.error else ""))


def init_app(app) -> None:
    app.cli.add_command(jobs_group)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(analyze_command)
    app.cli.add_command(publish_command)
    app.cli.add_command(export_command)
    app.cli.add_command(import_command)
    app.cli.add_command(margins_group)
    app.cli.add_command(min_cell_size_command)
    app.cli.add_command(create_admin_command)
    app.cli.add_command(purge_drafts_command)
