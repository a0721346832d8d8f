"""The ceilings the resident path is measured against: bare Flask + SQLAlchemy endpoints doing
the same database work per request as the app, and nothing else (bench/ceiling.py runs them).

    gunicorn -c gunicorn.conf.py --pythonpath bench "bare_app:create_orm_app()"
    gunicorn -c gunicorn.conf.py --pythonpath bench "bare_app:create_core_app()"

Each answers bench/load.py's residents as the app does for the one-page survey that load.py
prepares (the app's tables, the same rows written):

- ``GET /s/<slug>``: the survey read by its address, a small page with a token;
- ``POST /s/<slug>/start``: a draft inserted if the survey is open, its code in a cookie, 303 to
  page 1;
- ``GET /s/<slug>/page/1``: the questions and options (each client thread asks once);
- ``POST /s/<slug>/page/1``: in one transaction the draft found by its code's hash and deleted,
  the response inserted with a random id and its answers; 303 to the thank-you page.

Two ways of writing it:

- ``create_orm_app``: the everyday way, Flask-SQLAlchemy's ``db.session`` with ORM classes
  (``scalar(select(...))``, ``add``, ``delete``, ``commit``);
- ``create_core_app``: the least Python there can be between Flask and the database: SQLAlchemy
  Core with the statements written out, as few as the work takes (an INSERT ... SELECT starts,
  a DELETE ... RETURNING finds and deletes the draft).

What both leave out is what the app adds on top of the database work: templates, sessions and
CSRF tokens, rate limits, sealed drafts, display logic and answer checks, languages, security
headers. The questionnaire (question ids and option codes) is read once per process, as the
app keeps it per process. Each request runs in SQLAlchemy's ordinary transaction.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import sqlite3
from html import escape

from flask import Flask, abort, redirect, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    create_engine,
    event,
    select,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

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


def _sqlite_pragmas(dbapi_connection, record):
    # The app's settings (survey_app/extensions.py), so that both write to SQLite alike.
    if isinstance(dbapi_connection, sqlite3.Connection):
        for pragma in ("foreign_keys=ON", "secure_delete=ON", "journal_mode=WAL", "synchronous=NORMAL"):
            dbapi_connection.execute(f"PRAGMA {pragma}")


def welcome_page(title: str, slug: str) -> str:
    """The welcome page both bare endpoints serve: the title and a Start form with a token."""
    return (f"<!doctype html><title>{escape(title)}</title><h1>{escape(title)}</h1>"
            f'<form method="post" action="/s/{slug}/start">'
            f'<input type="hidden" name="csrf_token" value="{secrets.token_urlsafe(16)}">'
            "<button>Start</button></form>")


def create_core_app() -> Flask:
    url = os.environ["DATABASE_URL"]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    engine = create_engine(url)

    event.listen(engine, "connect", _sqlite_pragmas)

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
        return welcome_page(survey.title, slug)

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


# --- The everyday way: Flask-SQLAlchemy's session and ORM classes -----------------------------
# Only the columns used; the tables are the app's (load.py's prepare made them).

class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Survey(db.Model):
    __tablename__ = "survey"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))


class Question(db.Model):
    __tablename__ = "question"
    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"))
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(32))
    options: Mapped[list["AnswerOption"]] = relationship(order_by="AnswerOption.position", lazy="selectin")


class AnswerOption(db.Model):
    __tablename__ = "answer_option"
    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"))
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[int] = mapped_column(Integer)


class Draft(db.Model):
    __tablename__ = "response_draft"
    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"))
    token_hash: Mapped[str] = mapped_column(String(64))
    sealed_answers: Mapped[bytes | None] = mapped_column(LargeBinary)
    page: Mapped[int] = mapped_column(Integer, default=0)
    furthest: Mapped[int] = mapped_column(Integer, default=0)
    language: Mapped[str] = mapped_column(String(8), default="en")
    saved_on: Mapped[dt.date]


class Response(db.Model):
    __tablename__ = "response"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
                                    autoincrement=False)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"))
    submitted_on: Mapped[dt.date]
    mode: Mapped[str] = mapped_column(String(16), default="web")
    language: Mapped[str] = mapped_column(String(8), default="en")
    answers: Mapped[list["Answer"]] = relationship()


class Answer(db.Model):
    __tablename__ = "answer"
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"), primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"), primary_key=True)
    value: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)


def create_orm_app() -> Flask:
    """The pages and rows through Flask-SQLAlchemy: ``db.session`` queries of ORM classes, ``add``
    and ``delete``, one ``commit`` per write."""
    app = Flask(__name__)
    url = os.environ["DATABASE_URL"]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    db.init_app(app)
    with app.app_context():
        event.listen(db.engine, "connect", _sqlite_pragmas)
    questionnaires: dict[int, dict] = {}  # survey id: {question code: (question id, type, option codes)}

    def questionnaire(survey_id: int) -> dict:
        if survey_id not in questionnaires:
            questionnaires[survey_id] = {
                q.code: (q.id, q.type, {o.code for o in q.options})
                for q in db.session.scalars(select(Question).where(Question.survey_id == survey_id)
                                            .order_by(Question.position))}
        return questionnaires[survey_id]

    def open_survey(slug):
        survey = db.session.scalar(select(Survey).where(Survey.slug == slug))
        if survey is None or survey.status != "open":
            abort(404)
        return survey, questionnaire(survey.id)

    @app.get("/s/<slug>")
    def welcome(slug):
        survey, _questions = open_survey(slug)
        return welcome_page(survey.title, slug)

    @app.post("/s/<slug>/start")
    def start(slug):
        survey, _questions = open_survey(slug)
        code = secrets.token_urlsafe(12)
        db.session.add(Draft(survey_id=survey.id, token_hash=_token_hash(code), saved_on=dt.date.today()))
        db.session.commit()
        response = redirect(f"/s/{slug}/page/1", code=303)
        response.set_cookie("draft", code, httponly=True, samesite="Lax")
        return response

    @app.get("/s/<slug>/page/1")
    def page(slug):
        _survey, questions = open_survey(slug)
        inputs = "".join(f'<input type="radio" name="q_{code}" value="{option}">'
                         for code, (_id, _type, options) in questions.items() for option in sorted(options))
        return f'<form method="post">{inputs}<input name="q_marker"></form>'

    @app.post("/s/<slug>/page/1")
    def submit(slug):
        draft = db.session.scalar(select(Draft).join(Survey, Survey.id == Draft.survey_id).where(
            Survey.slug == slug, Draft.token_hash == _token_hash(request.cookies.get("draft", ""))))
        if draft is None:
            return redirect(f"/s/{slug}", code=303)
        questions = questionnaire(draft.survey_id)
        response = Response(id=secrets.randbelow(2**63 - 1) + 1, survey_id=draft.survey_id,
                            submitted_on=dt.date.today())
        for question_code, (question_id, kind, options) in questions.items():
            given = request.form.get(f"q_{question_code}", "").strip()
            if not given:
                continue
            if kind == "text":
                response.answers.append(Answer(question_id=question_id, text=given[:64]))
            elif given.lstrip("-").isdigit() and int(given) in options:
                response.answers.append(Answer(question_id=question_id, value=int(given)))
            else:
                abort(422)
        db.session.delete(draft)
        db.session.add(response)
        db.session.commit()
        redirected = redirect(f"/s/{slug}/thanks", code=303)
        redirected.delete_cookie("draft")
        return redirected

    return app
