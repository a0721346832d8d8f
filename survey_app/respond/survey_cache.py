"""The questionnaire as the resident pages see it, loaded once per process and revision.

Loading a survey with its pages, questions and options through the ORM took five queries and
about 45% of a resident request's time (cProfile, one-page survey). Instead each request asks
the database one small question, the survey's id, creation time and revision by its address,
and takes the rest from this process's cache, reloaded whenever that revision has moved. The
database moves it (triggers on the survey, page, question and answer_option tables, see
``models.Survey.revision``) on every change to those rows, however it is made: through the
ORM, a bulk ``update()``, raw SQL or a data migration. An edit, a closing or a finished
translation is therefore seen by every server on its very next request; nothing is kept
for a while and hoped fresh (the one exception is a new resident's welcome page, which may
be RESIDENT_PAGE_MAX_AGE_SECONDS old: see ``SurveyCache.recent``).

The cached objects are fully loaded, detached from every session and shared by the
process's threads, so they are read-only: rows that belong to a survey are made with
``survey_id=survey.id``, never by attaching these objects to a session. Reading a
relationship that was not loaded raises DetachedInstanceError instead of giving a stale value.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, selectinload

from ..extensions import db
from ..forms.response import build_response_form
from ..i18n import LANGUAGES
from ..models import Page, Question, Survey
from ..questionnaire import translation


FORMS_PER_SURVEY = 256
PAGES_PER_SURVEY = 16


@dataclass(frozen=True)
class CachedSurvey:
    survey: Survey  # detached, with every relationship the resident pages read loaded
    languages: tuple[str, ...]  # the survey's own language, then those it is completely translated into
    # (created_at, revision): which version of the survey this is. The creation time too, because
    # SQLite may give a new survey the id of one just deleted (seed-demo --replace).
    stamp: tuple
    # Form classes made for this version, by (hidden questions, page's question ids).
    forms: dict = field(default_factory=dict, compare=False, repr=False)
    # Pages rendered for this version that are the same for every resident (respond/routes.py
    # _shared_page), by (page, language, ...): HTML with a slot for the CSRF token.
    pages: dict = field(default_factory=dict, compare=False, repr=False)

    def form_class(self, hidden: frozenset[str], questions=None):
        """``build_response_form(survey, hidden, questions)``, made once per version of the survey.

        A form class is read-only once made (WTForms binds new fields to each form object),
        so requests share it. Display logic can hide questions in many combinations; past
        FORMS_PER_SURVEY of them, further classes are made for the request and not kept.
        """
        key = (hidden, None if questions is None else tuple(q.id for q in questions))
        form = self.forms.get(key)
        if form is None:
            form = build_response_form(self.survey, hidden, questions)
            if len(self.forms) < FORMS_PER_SURVEY:
                self.forms[key] = form
        return form


def _load(survey_id: int) -> CachedSurvey | None:
    # A session of its own, closed at once, so that the request's session never holds these
    # objects; on the request's connection, so that a request never needs two connections.
    with Session(bind=db.session.connection()) as session:
        survey = session.scalar(
            select(Survey).where(Survey.id == survey_id).options(
                selectinload(Survey.pages).selectinload(Page.questions),
                selectinload(Survey.questions).selectinload(Question.options),
                selectinload(Survey.questions).selectinload(Question.rows),
                selectinload(Survey.series),
            ))
        if survey is None:
            return None
        # Many-to-one links back up the tree come from the identity map (no query) but
        # must be read while the objects are attached.
        for page in survey.pages:
            page.survey  # noqa: B018
        for question in survey.questions:
            question.survey, question.page, question.parent  # noqa: B018
            for option in question.options:
                option.question  # noqa: B018
        languages = tuple(translation.available_languages(survey, LANGUAGES))
        return CachedSurvey(survey, languages, (survey.created_at, survey.revision))


# Asked on every resident request; built once (building it took three times as long as running
# it on SQLite: 60 of 80 us).
_STAMP = select(Survey.id, Survey.created_at, Survey.revision).where(Survey.slug == bindparam("slug"))


class SurveyCache:
    """One entry per survey residents have opened in this process (a survey is a few hundred
    small objects, and a city runs tens of surveys, so entries are replaced, never evicted)."""

    def __init__(self):
        self._entries: dict[int, CachedSurvey] = {}
        self._by_slug: dict[str, CachedSurvey] = {}
        self._checked: dict[str, float] = {}  # slug: when (time.monotonic) get last found it current
        self._lock = threading.Lock()
        self.loads = 0  # how many times a survey was loaded (the tests read it)

    def get(self, slug: str, stamp=None) -> CachedSurvey | None:
        """The current version of the survey at ``slug``. ``stamp`` is its row of (id,
        created_at, revision) when the caller has just read it in a query of its own (one
        round trip for two questions); else it is read here."""
        # On the session's connection (its transaction), as a plain statement: no ORM objects.
        row = stamp or db.session.connection().execute(_STAMP, {"slug": slug}).first()
        if row is None:
            self._checked.pop(slug, None)
            return None
        entry = self._entries.get(row.id)
        if entry is None or entry.stamp != (row.created_at, row.revision):
            # Threads missing at the same moment each load; the last one stored wins (all current).
            entry = _load(row.id)
            if entry is None:  # deleted between the two queries
                return None
            with self._lock:
                self.loads += 1
                self._entries[row.id] = entry
        self._by_slug[slug] = entry
        self._checked[slug] = time.monotonic()
        return entry

    def peek(self, slug: str) -> CachedSurvey | None:
        """The version of the survey at ``slug`` this process last saw, *without asking the
        database whether it is still current*: only for a caller whose write is conditional
        on the stamp (see drafts.start) and that falls back to ``get`` when it was not."""
        return self._by_slug.get(slug)

    def recent(self, slug: str, max_age: float) -> CachedSurvey | None:
        """The survey at ``slug`` if ``get`` found this copy current less than ``max_age``
        seconds ago, else None: for pages that may be that old (a welcome page), never for a
        write."""
        checked = self._checked.get(slug)
        if checked is None or time.monotonic() - checked >= max_age:
            return None
        return self._by_slug.get(slug)


def survey_cache() -> SurveyCache:
    """This app's cache (an app per test keeps tests from seeing each other's surveys)."""
    return current_app.extensions.setdefault("survey_cache", SurveyCache())
