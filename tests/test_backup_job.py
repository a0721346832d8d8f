"""A survey's backup from the staff pages, as a background job (survey_app/backup_job.py): the
same file `flask export` writes, for the admin who asked, kept a day, never for other roles."""
from __future__ import annotations

import datetime as dt
import html
import json
import stat
from pathlib import Path

from sqlalchemy import select, update

from survey_app import backup_job, jobs
from survey_app.cli import create_demo_survey
from survey_app.extensions import db
from survey_app.models import AuditEntry, Job

from .factories import add_response
from .staff_helpers import make_user, post, sign_in


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def exports(app) -> list[str]:
    folder = Path(app.config["GENERATED_DIR"]) / backup_job.EXPORTS_DIR
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def start(client, survey):
    page = f"/staff/surveys/{survey.id}"
    return post(client, f"{page}/backup", {}, token_page=page)


def test_an_admin_backs_up_a_survey_and_downloads_what_flask_export_writes(client, app, runner, tmp_path):
    survey = create_demo_survey(responses=120, seed=4)
    add_response(survey, top_problem="Speeding on Elm Street", years_in_city=3)
    admin = make_user("admin")
    sign_in(client, admin.email)
    assert "Back up the survey with every response" in text(client.get(f"/staff/surveys/{survey.id}"))
    reply = start(client, survey)
    assert reply.status_code == 303 and reply.location.startswith("/staff/jobs/")
    page = text(client.get(reply.location))
    assert "The backup holds the survey and its 121 responses" in page and "Download the backup" in page
    assert "removed from the server on" in page
    [name] = exports(app)
    path = Path(app.config["GENERATED_DIR"]) / backup_job.EXPORTS_DIR / name
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # the app's own user alone

    download = client.get(reply.location + "/backup.jsonl")
    assert download.status_code == 200 and download.headers["Cache-Control"] == "no-store"
    assert "attachment" in download.headers["Content-Disposition"]
    assert f"community-trust-backup-{dt.date.today():%Y-%m-%d}.jsonl" in download.headers["Content-Disposition"]
    mine = download.get_data(as_text=True).splitlines()
    cli = tmp_path / "cli.jsonl"
    assert runner.invoke(args=["export", "community-trust", str(cli)]).exit_code == 0
    theirs = cli.read_text("utf-8").splitlines()
    assert len(mine) == 122 and sorted(mine[1:]) == sorted(theirs[1:])
    assert "Speeding on Elm Street" in "".join(mine)
    headers = [json.loads(lines[0]) for lines in (mine, theirs)]
    for header in headers:
        header.pop("exported_at")
    assert headers[0] == headers[1]
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("survey.backup%"))).all()
    assert sorted(actions) == ["survey.backup", "survey.backup_download"]


def test_only_admins_back_up_and_only_the_one_who_asked_downloads(client, app):
    survey = create_demo_survey(responses=30, seed=5)
    for role in ("editor", "analyst"):
        other = app.test_client()
        sign_in(other, make_user(role).email)
        assert "Back up the survey" not in text(other.get(f"/staff/surveys/{survey.id}"))
        assert start(other, survey).status_code == 403
    sign_in(client, make_user("admin").email)
    location = start(client, survey).location
    second = app.test_client()
    sign_in(second, make_user("admin", email="second-admin@city.example").email)
    assert "Only the admin who started it can download" in text(second.get(location))
    assert second.get(location + "/backup.jsonl").status_code == 403
    assert exports(app) and db.session.scalars(select(Job.kind)).all() == ["backup"]


def test_backups_are_removed_a_day_after_they_are_written(client, app):
    survey = create_demo_survey(responses=30, seed=6)
    sign_in(client, make_user("admin").email)
    location = start(client, survey).location
    job_id = int(location.rsplit("/", 1)[1])
    folder = Path(app.config["GENERATED_DIR"]) / backup_job.EXPORTS_DIR
    (folder / ".999-abc.jsonl.part").write_text("left by a run cut short")
    assert backup_job.remove_expired() == [".999-abc.jsonl.part"]  # today's backup stays
    assert len(exports(app)) == 1
    db.session.execute(update(Job).where(Job.id == job_id)
                       .values(finished_at=jobs.utcnow() - backup_job.KEEP_FOR - dt.timedelta(minutes=1)))
    db.session.commit()
    assert len(backup_job.remove_expired()) == 1 and exports(app) == []
    assert "no longer kept on the server" in text(client.get(location))
    gone = client.get(location + "/backup.jsonl")
    assert gone.status_code == 303 and "no longer kept" in text(client.get(gone.location))


def test_a_backup_run_that_does_not_commit_leaves_no_file(client, app, monkeypatch):
    survey = create_demo_survey(responses=30, seed=7)
    sign_in(client, make_user("admin").email)
    monkeypatch.setattr(jobs, "_end", lambda *args, **kwargs: False)  # taken over before its end
    start(client, survey)
    assert exports(app) == []
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "survey.backup")) is None
