"""The ceiling the resident path is measured against: bare Flask + SQLAlchemy Core doing the
same database work per request as the app, and nothing else.

    gunicorn -c gunicorn.conf.py --pythonpath bench "bare_app:create_app()"   (bench/ceiling.py does it)

It answers bench/load.py's residents exactly as the app does for the one-page survey that
load.py prepares (same database, same tables, same rows written):

- ``GET /s/<slug>``: the survey read by its address (one SELECT), a small page with a token;
- ``POST /s/<slug>/start``: a draft inserted for the survey if it is open (one INSERT ... SELECT),
  its code in a cookie, 303 to page 1;
- ``GET /s/<slug>/page/1``: the questions and options (each client thread asks once);
- ``POST /s/<slug>/page/1``: in one transaction the draft deleted by its code's hash (DELETE ...
  RETURNING), the response inserted with a random id and its answers inserted (one
  executemany); 303 to the thank-you page.

What it leaves out is what the app adds on top of the database work: templates, sessions and
CSRF tokens, rate limits, sealed drafts, display logic and answer checks, languages, security
headers. The questionnaire (question ids and option codes) is read once per process, as the
app keeps it per process. As few statements as the work takes, each request in SQLAlchemy's
ordinary transaction (``engine.connect()``, ``engine.begin()``).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import sqlite3
from html import escape

from flask import Flask, abort, redirect, request
from sqlalchemy import create_engine, event, text

SELECT_SURVEY = text("SELECT id, title, status FROM survey WHERE slug = :slug")
SELECT_QUESTIONS = text(
    "SELECT q.id, q.code, q.type, o.code AS option_code FROM question q "
    "LEFT JOIN answer_option o ON o.question_id = q.id WHERE q.survey_id = :survey_id "
    "ORDER BY q.position, o.position")
INSERT_DRAFT = text(
    "INSERT INTO response_draft (survey_id, token_hash, sealed_answers, page, furthest, language, saved_on) "
    "SELECT id, :token_hash, NULL, 0, 0, 'en', :saved_on FROM survey WHERE slug = :slug AND status = 'open'")
DELETE_DRAFT = text(
    "DELETE FROM response_draft WHERE token_hash = :token_hash "
    "AND survey_id = (SELECT id FROM survey WHERE slug = :slug) RETURNING survey_id")
INSERT_RESPONSE = text(
    "INSERT INTO response (id, survey_id, submitted_on, mode, language) "
    "VALUES (:id, :survey_id, :submitted_on, 'web', 'en')")
INSERT_ANSWER = text(
    "INSERT INTO answer (response_id, question_id, value, number, text) "
    "VALUES (:response_id, :question_id, :value, NULL, :text)")


def _token_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def create_app() -> Flask:
    url = os.environ["DATABASE_URL"]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def sqlite_pragmas(dbapi_connection, record):
        # The app's settings (survey_app/extensions.py), so that both write to SQLite alike.
        if isinstance(dbapi_connection, sqlite3.Connection):
            for pragma in ("foreign_keys=ON", "secure_delete=ON", "journal_mode=WAL", "synchronous=NORMAL"):
                dbapi_connection.execute(f"PRAGMA {pragma}")

    app = Flask(__name__)
    questionnaires: dict[int, dict] = {}  # survey id: {question code: (question id, type, option codes)}

    def questionnaire(connection, survey_id: int) -> dict:
        if survey_id not in questionnaires:
            questions: dict = {}
            for row in connection.execute(SELECT_QUESTIONS, {"survey_id": survey_id}):
                entry = questions.setdefault(row.code, (row.id, row.type, set()))
                if row.option_code is not None:
                    entry[2].add(row.option_code)
            questionnaires[survey_id] = questions
        return questionnaires[survey_id]

    @app.get("/s/<slug>")
    def welcome(slug):
        with engine.connect() as connection:
            survey = connection.execute(SELECT_SURVEY, {"slug": slug}).first()
        if survey is None or survey.status != "open":
            abort(404)
        return (f"<!doctype html><title>{escape(survey.title)}</title><h1>{escape(survey.title)}</h1>"
                f'<form method="post" action="/s/{slug}/start">'
                f'<input type="hidden" name="csrf_token" value="{secrets.token_urlsafe(16)}">'
                "<button>Start</button></form>")

    @app.post("/s/<slug>/start")
    def start(slug):
        code = secrets.token_urlsafe(12)
        with engine.begin() as connection:
            inserted = connection.execute(INSERT_DRAFT, {"slug": slug, "token_hash": _token_hash(code),
                                                         "saved_on": dt.date.today()}).rowcount
        if inserted != 1:
            abort(404)
        response = redirect(f"/s/{slug}/page/1", code=303)
        response.set_cookie("draft", code, httponly=True, samesite="Lax")
        return response

    @app.get("/s/<slug>/page/1")
    def page(slug):
        with engine.connect() as connection:
            survey = connection.execute(SELECT_SURVEY, {"slug": slug}).first()
            if survey is None:
                abort(404)
            questions = questionnaire(connection, survey.id)
        inputs = "".join(f'<input type="radio" name="q_{code}" value="{option}">'
                         for code, (_id, _type, options) in questions.items() for option in sorted(options))
        return f'<form method="post">{inputs}<input name="q_marker"></form>'

    @app.post("/s/<slug>/page/1")
    def submit(slug):
        code = request.cookies.get("draft", "")
        with engine.begin() as connection:
            survey_id = connection.execute(DELETE_DRAFT, {"slug": slug, "token_hash": _token_hash(code)}).scalar()
            if survey_id is None:
                return redirect(f"/s/{slug}", code=303)
            answers = []
            response_id = secrets.randbelow(2**63 - 1) + 1
            for question_code, (question_id, kind, options) in questionnaire(connection, survey_id).items():
                given = request.form.get(f"q_{question_code}", "").strip()
                if not given:
                    continue
                if kind == "text":
                    answers.append({"response_id": response_id, "question_id": question_id, "value": None,
                                    "text": given[:64]})
                elif given.lstrip("-").isdigit() and int(given) in options:
                    answers.append({"response_id": response_id, "question_id": question_id,
                                    "value": int(given), "text": None})
                else:
                    abort(422)  # leaving the block rolls the DELETE back
            connection.execute(INSERT_RESPONSE, {"id": response_id, "survey_id": survey_id,
                                                 "submitted_on": dt.date.today()})
            connection.execute(INSERT_ANSWER, answers)
        response = redirect(f"/s/{slug}/thanks", code=303)
        response.delete_cookie("draft")
        return response

    return app
