"""Database tables.

The shape follows the one-way data flow: a questionnaire (``Survey`` -> ``Page``
-> ``Question`` -> ``AnswerOption``) is answered by ``Response`` rows, each with
one ``Answer`` row per question answered.

Answers are coded, not free-form: a choice question stores its option's
integer ``code`` (stable across waves, unlike option ids), a multiple-choice
question a bit mask of option codes, a numeric question a float, and only text
questions store text. That keeps the table narrow and typed on SQLite and
PostgreSQL alike, so a million responses load into pandas as integer arrays
(see ``analysis/frame.py``). JSON is used only for configuration (question
settings, display conditions, translations), never for answers.

Privacy: nothing in ``Response`` or ``Answer`` identifies a resident. A response
keeps the date it was submitted (not the time), its mode and its language.
Invitations record that a code was used, never which response used it.

Answers in progress live in ``ResponseDraft`` until the resident submits; the
draft is deleted in the transaction that stores the response.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db
from .questionnaire.types import MISSING_CODES

SURVEY_STATUSES = ("draft", "open", "closed")
ACCESS_MODES = ("open", "invitation")
RESPONSE_MODES = ("web", "paper", "phone", "import")
SNAPSHOT_STATUSES = ("draft", "published", "withdrawn")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# Response ids: random 63-bit integers (responses.new_response_id), so that their order says
# nothing about the order of submission. BIGINT on PostgreSQL; on SQLite an INTEGER PRIMARY
# KEY is already 64 bits (and stays the table's rowid).
RESPONSE_ID = BigInteger().with_variant(Integer(), "sqlite")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class UTCDateTime(TypeDecorator):
    """A moment, stored in UTC and always given back aware of it. PostgreSQL keeps the zone;
    SQLite keeps none and gives back a naive datetime, which is UTC: without this, an object
    just created (aware) and the same row read back (naive) could not even be compared."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value

class SurveySeries(db.Model):
    """Surveys repeated over time (waves) that share question codes."""

    __tablename__ = "survey_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    surveys: Mapped[list[Survey]] = relationship(back_populates="series", order_by="Survey.wave")


class Survey(db.Model):
    __tablename__ = "survey"
    __table_args__ = (
        CheckConstraint(_in("status", SURVEY_STATUSES), name="status"),
        CheckConstraint(_in("access_mode", ACCESS_MODES), name="access_mode"),
        CheckConstraint("min_cell_size >= 1", name="min_cell_size"),
        UniqueConstraint("series_id", "wave", name="uq_survey_series_wave"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    introduction: Mapped[str] = mapped_column(Text, default="")
    consent_text: Mapped[str] = mapped_column(Text, default="")
    thank_you_text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    # Optional window inside which an open survey accepts responses.
    opens_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closes_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    access_mode: Mapped[str] = mapped_column(String(16), default="open")
    series_id: Mapped[int | None] = mapped_column(ForeignKey("survey_series.id"))
    wave: Mapped[int] = mapped_column(Integer, default=1)
    default_language: Mapped[str] = mapped_column(String(8), default="en")
    # Staff-entered translations: {"es": {"title": ..., "introduction": ...}}.
    translations: Mapped[dict] = mapped_column(JSON, default=dict)
    # Disclosure control: fewest unweighted respondents behind any published figure.
    min_cell_size: Mapped[int] = mapped_column(Integer, default=10)
    # Optional cap on weights after raking, as a multiple of the mean weight (None: no trimming).
    weight_trim: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow
    )
    # Moved by the database itself: triggers add one whenever a row of the survey, its pages,
    # questions or answer options is inserted, updated or deleted, by the ORM, a bulk
    # statement or raw SQL alike (migration b5e1c7d9a3f2). The resident pages keep each survey
    # loaded per process under this number (respond/survey_cache.py), read from the database:
    # a Survey object loaded earlier holds the number of that moment.
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    series: Mapped[SurveySeries | None] = relationship(back_populates="surveys")
    pages: Mapped[list[Page]] = relationship(
        back_populates="survey", order_by="Page.position", cascade="all, delete-orphan"
    )
    questions: Mapped[list[Question]] = relationship(
        back_populates="survey", order_by="Question.position", cascade="all, delete-orphan"
    )

    def availability(self, now: dt.datetime | None = None) -> str:
        """'open', or why the survey does not take responses: 'draft', 'closed', 'not_yet_open'."""
        if self.status != "open":
            return self.status
        now = now or utcnow()
        if self.opens_at and now < as_utc(self.opens_at):
            return "not_yet_open"
        if self.closes_at and now >= as_utc(self.closes_at):
            return "closed"
        return "open"

    def __repr__(self) -> str:
        return f"<Survey {self.slug}>"


def as_utc(moment: dt.datetime | None) -> dt.datetime | None:
    """A moment aware of UTC. What the database gives back already is (UTCDateTime); a value set
    in Python without a zone (an older backup's times, a script) is taken as UTC, as stored."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


class Page(db.Model):
    __tablename__ = "page"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200), default="")
    # Shown only when earlier answers match, e.g. {"question": "contact_12m", "in": [1]}.
    display_condition: Mapped[dict | None] = mapped_column(JSON)
    translations: Mapped[dict] = mapped_column(JSON, default=dict)

    survey: Mapped[Survey] = relationship(back_populates="pages")
    questions: Mapped[list[Question]] = relationship(
        back_populates="page", order_by="Question.position"
    )


class Question(db.Model):
    __tablename__ = "question"
    __table_args__ = (UniqueConstraint("survey_id", "code", name="uq_question_survey_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("page.id", ondelete="CASCADE"), index=True)
    # A matrix is a parent question whose rows are child questions on one scale.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    # Variable name, stable across waves and used as the column name in analysis.
    code: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    help_text: Mapped[str] = mapped_column(Text, default="")
    required: Mapped[bool] = mapped_column(default=False)
    # Type settings: {"min": 0, "max": 100, "decimals": 0}, {"max_length": 500}, {"scale": "agreement"}.
    config: Mapped[dict] = mapped_column(JSON, default=dict)
    display_condition: Mapped[dict | None] = mapped_column(JSON)
    # Question-bank tags used to build indices.
    construct: Mapped[str | None] = mapped_column(String(64))
    reverse_coded: Mapped[bool] = mapped_column(default=False)
    translations: Mapped[dict] = mapped_column(JSON, default=dict)

    survey: Mapped[Survey] = relationship(back_populates="questions")
    page: Mapped[Page] = relationship(back_populates="questions")
    # A matrix's statements: scale questions of their own (answers, analysis), shown in one grid.
    parent: Mapped[Question | None] = relationship(back_populates="rows", remote_side="Question.id")
    rows: Mapped[list[Question]] = relationship(back_populates="parent", order_by="Question.position")
    options: Mapped[list[AnswerOption]] = relationship(
        back_populates="question", order_by="AnswerOption.position", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Question {self.code} ({self.type})>"


class AnswerOption(db.Model):
    __tablename__ = "answer_option"
    __table_args__ = (UniqueConstraint("question_id", "code", name="uq_answer_option_question_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("question.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    # The stored value. Negative codes are non-substantive (see MISSING_CODES).
    code: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(300))
    translations: Mapped[dict] = mapped_column(JSON, default=dict)

    question: Mapped[Question] = relationship(back_populates="options")

    @property
    def is_missing_code(self) -> bool:
        return self.code in MISSING_CODES


class Response(db.Model):
    """One submitted questionnaire. Deliberately holds nothing that identifies who sent it."""

    __tablename__ = "response"
    __table_args__ = (CheckConstraint(_in("mode", RESPONSE_MODES), name="mode"),)

    # Random, never a sequence: ids in submission order would date each response against logs.
    id: Mapped[int] = mapped_column(RESPONSE_ID, primary_key=True, autoincrement=False)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    # The date only: an exact time could be matched against server logs or an invitation.
    submitted_on: Mapped[dt.date] = mapped_column(Date, default=lambda: utcnow().date())
    mode: Mapped[str] = mapped_column(String(16), default="web")
    language: Mapped[str] = mapped_column(String(8), default="en")

    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan", passive_deletes=True
    )


class Answer(db.Model):
    """One answered question of one response; exactly one of the value columns is set."""

    __tablename__ = "answer"
    # Keyed by question first: the analysis reads a survey question by question, and on
    # SQLite the table is clustered on its key (WITHOUT ROWID), so each question's answers
    # are one sequential run of pages (measured: loading takes 45% less time than through
    # a secondary question index and row lookups). Per-response access and cascading
    # deletes use the response index.
    __table_args__ = (
        PrimaryKeyConstraint("question_id", "response_id", name="pk_answer"),
        Index("ix_answer_response_id", "response_id"),
        {"sqlite_with_rowid": False},
    )

    response_id: Mapped[int] = mapped_column(RESPONSE_ID, ForeignKey("response.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"))
    # Option code (single choice, dropdown, scale) or bit mask of option codes
    # (multiple choice: bit ``code - 1`` set for each chosen option), or a ranking's codes
    # in order, four bits each (question_types/ranking.py).
    value: Mapped[int | None] = mapped_column(Integer)
    # Numeric answers.
    number: Mapped[float | None] = mapped_column(Float)
    # Free text: never leaves the database except in staff-only exports.
    text: Mapped[str | None] = mapped_column(Text)

    response: Mapped[Response] = relationship(back_populates="answers")


class Invitation(db.Model):
    """A single-use code mailed to a sampled address. Never linked to the response it produced.

    Only a hash of the code is kept, and whether it has been used: not when (a date of use
    could be matched against a response's submission date on a quiet day) and not by which
    response. ``batch`` numbers the generations, so that staff can tell how many codes of
    each mailing came back.
    """

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    # SHA-256 of the normalised code (60 random bits), so a database leak hands out no usable codes.
    code_hash: Mapped[str] = mapped_column(String(128), unique=True)
    batch: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used: Mapped[bool] = mapped_column(default=False)


class ResponseDraft(db.Model):
    """Answers in progress, so that a resident can go back, change language, or resume later.

    Found by the hash of a resume code that only the resident holds (in a cookie, or written
    down), and its answers sealed with a key derived from that same code (AES-GCM,
    ``access_codes.answers_key``): without the code the row says which page was reached, not
    what was answered. In invitation mode the draft has a resume code of its own (the
    invitation code is in staff's mail-merge file, so it must not unlock answers), and
    ``invitation_id`` says which invitation submitting uses up; the draft is deleted in the
    same transaction as the response is stored, so no link between the two is ever stored.
    Drafts carry no time, only the date they were last saved, and expire (``drafts.DRAFT_DAYS``).
    """

    __tablename__ = "response_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitation.id", ondelete="CASCADE"), unique=True)
    # What was posted, by field name ({"q_trust": ["17"], "q_kinds": ["3", "5"]}), as JSON
    # sealed by drafts.seal: nonce + AES-GCM ciphertext. NULL while nothing is answered.
    sealed_answers: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Index (0-based, in survey.pages) of the page the resident is on, and the furthest reached.
    page: Mapped[int] = mapped_column(Integer, default=0)
    furthest: Mapped[int] = mapped_column(Integer, default=0)
    language: Mapped[str] = mapped_column(String(8), default="en")
    saved_on: Mapped[dt.date] = mapped_column(Date, default=lambda: utcnow().date(), index=True)


class PopulationMargin(db.Model):
    """A population total for one category of a weighting variable (e.g. district = 3)."""

    __tablename__ = "population_margin"
    __table_args__ = (
        UniqueConstraint("survey_id", "variable", "category_code", name="uq_population_margin_cell"),
        CheckConstraint("population >= 0", name="population"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    # The question code of the weighting variable, and the option code of the category.
    variable: Mapped[str] = mapped_column(String(64))
    category_code: Mapped[int] = mapped_column(Integer)
    population: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(300), default="")


class Snapshot(db.Model):
    """An immutable published version of a survey's results, stored as files."""

    __tablename__ = "snapshot"
    __table_args__ = (
        UniqueConstraint("survey_id", "version", name="uq_snapshot_survey_version"),
        CheckConstraint(_in("status", SNAPSHOT_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    storage_path: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    withdrawal_notice: Mapped[str] = mapped_column(Text, default="")


# --- Staff ----------------------------------------------------------------------------------

STAFF_ROLES = ("admin", "editor", "analyst")


class StaffUser(db.Model):
    """A member of city staff. Residents never have accounts."""

    __tablename__ = "staff_user"
    __table_args__ = (CheckConstraint(_in("role", STAFF_ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-cased
    name: Mapped[str] = mapped_column(String(200))
    # Werkzeug's scrypt hash ("scrypt:32768:8:1$salt$hash"); never the password.
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    # Login throttling for browsers this account has not signed in from (accounts.py): failures
    # and, after too many, until when such sign-ins are refused.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Kept in each session at sign-in; moving it (sign-out, a new password, a new role, the
    # account disabled) ends every session of the account on every server.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Set by an admin's forced reset: the next sign-in must choose a new password first.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default="0")
    # Two-factor sign-in (two_factor.py): the TOTP secret once enrolment is confirmed, and the
    # last time step a code was accepted for (a code works once).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # A secret being set up, until a code confirms it (kept here, not in the session cookie,
    # which the browser can read).
    totp_pending: Mapped[str | None] = mapped_column(String(64))

    # Flask-Login's user protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    def __repr__(self) -> str:
        return f"<StaffUser {self.email} ({self.role})>"


class StaffDevice(db.Model):
    """A browser an account has signed in from: the cookie it keeps lets its owner sign in while
    sign-ins from unknown browsers are paused (OWASP's device cookies), and counts its own
    failures. Only a hash of the cookie's token is stored."""

    __tablename__ = "staff_device"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_used_on: Mapped[dt.date] = mapped_column(Date, default=lambda: utcnow().date())


class RecoveryCode(db.Model):
    """A single-use code that stands in for a two-factor code (a lost phone). Only its hash is kept."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used: Mapped[bool] = mapped_column(default=False)


JOB_STATUSES = ("queued", "running", "done", "failed")


class Job(db.Model):
    """Work too long for a request (an import, an analysis), run by ``flask jobs worker``
    (jobs.py): what it is, how far it has got, and what came of it.

    The queue that wakes a worker (huey) holds only the job's id; this row is the truth. A
    run holds the job by ``claim`` and writes its progress and its result only while it still
    holds it, so a job taken over after its worker stopped is finished exactly once.
    """

    __tablename__ = "job"
    __table_args__ = (CheckConstraint(_in("status", JOB_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # a key of jobs.KINDS
    survey_id: Mapped[int | None] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    # Set while the job is queued or running (e.g. "analysis:12"), cleared when it ends: the
    # unique index lets only one such job be active at a time.
    active_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    # The input (an uploaded file): removed when the job ends, whatever the outcome.
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)
    phase: Mapped[str] = mapped_column(String(200), default="")
    result: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claim: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    survey: Mapped["Survey | None"] = relationship()


class AuditEntry(db.Model):
    """One staff action that changed data: who, what, when. Append-only."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"), index=True)
    # Copied so that the entry still says who it was if the account is deleted.
    user_email: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64))  # e.g. "question.update"
    target: Mapped[str] = mapped_column(String(200), default="")  # e.g. "survey community-trust"
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class BankItem(db.Model):
    """A question staff added to the question bank (the built-in items live in code)."""

    __tablename__ = "bank_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    # The question as a definition item (type, text, options or config, construct, reverse_coded).
    definition: Mapped[dict] = mapped_column(JSON)
    construct: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


# What residents wrote, read and coded by staff (written_answers.py, written_masking.py,
# written_coding.py). Keyed by the answer, deleted with it (a removed response takes its
# masking and coding along); no time is kept next to an answer.

ANSWER_KEY = ("answer.question_id", "answer.response_id")
CODING_ROLES = ("main", "check", "final")


class WrittenMask(db.Model):
    """What is masked in one written answer before anyone codes or quotes it: spans of the
    original text, each with its kind ("name", "phone", ...) and whether the rules found it or a
    person added it. The original stays in ``answer.text`` (staff-only); ``edited`` once a person
    changed the spans, so that better rules never undo their choice."""

    __tablename__ = "written_mask"
    __table_args__ = (
        PrimaryKeyConstraint("question_id", "response_id", name="pk_written_mask"),
        db.ForeignKeyConstraint(["question_id", "response_id"], list(ANSWER_KEY), ondelete="CASCADE"),
    )

    question_id: Mapped[int] = mapped_column(Integer)
    response_id: Mapped[int] = mapped_column(RESPONSE_ID)
    spans: Mapped[list] = mapped_column(JSON, default=list)  # [[start, end, kind, "found" | "staff"], ...]
    rules: Mapped[int] = mapped_column(Integer)  # written_masking.RULES when found
    edited: Mapped[bool] = mapped_column(default=False)


class Theme(db.Model):
    """One theme of a written question's codebook. ``number`` (1-30, never two alike in one
    codebook) is what codings hold and the analysis's option code: a theme renamed stays the
    same theme."""

    __tablename__ = "theme"
    __table_args__ = (UniqueConstraint("question_id", "number", name="uq_theme_number"),
                      UniqueConstraint("question_id", "label", name="uq_theme_label"))

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(120))
    translations: Mapped[dict] = mapped_column(JSON, default=dict)  # {language: label}
    position: Mapped[int] = mapped_column(Integer, default=0)


class Coding(db.Model):
    """The themes one coder gave one written answer. ``main``: the coding the results use;
    ``check``: a second coder's, blind, on a random sample (agreement); ``final``: what the two
    settled on where they disagreed (then the results use it). A check row with no coder is
    drawn into the sample and waits for one."""

    __tablename__ = "coding"
    __table_args__ = (
        PrimaryKeyConstraint("question_id", "response_id", "role", name="pk_coding"),
        db.ForeignKeyConstraint(["question_id", "response_id"], list(ANSWER_KEY), ondelete="CASCADE"),
        CheckConstraint(_in("role", CODING_ROLES), name="role"),
    )

    question_id: Mapped[int] = mapped_column(Integer)
    response_id: Mapped[int] = mapped_column(RESPONSE_ID)
    role: Mapped[str] = mapped_column(String(5))
    coder_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    themes: Mapped[list | None] = mapped_column(JSON)  # theme numbers; None: not coded yet
    suggested: Mapped[list | None] = mapped_column(JSON)  # theme numbers suggested when it was coded


class WrittenQuote(db.Model):
    """A few words of one written answer that a person approved for the published page: an
    excerpt of its masked text (written_quotes.py checks both), never from a group smaller than
    the minimum cell size. None unless someone approves one."""

    __tablename__ = "written_quote"
    __table_args__ = (
        PrimaryKeyConstraint("question_id", "response_id", name="pk_written_quote"),
        db.ForeignKeyConstraint(["question_id", "response_id"], list(ANSWER_KEY), ondelete="CASCADE"),
    )

    question_id: Mapped[int] = mapped_column(Integer)
    response_id: Mapped[int] = mapped_column(RESPONSE_ID)
    text: Mapped[str] = mapped_column(Text)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
