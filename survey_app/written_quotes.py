"""Quotes of what residents wrote on the published page: none unless a person approves one. An
approved quote is an excerpt of the answer as masked (names, phone numbers... already out: the
excerpt must be words of the masked text, in order, so nothing unmasked can be typed in), at
most MAX_QUOTES per question, and never from a resident whose group in any breakdown variable
(district, age band...) has fewer respondents than the minimum cell size, or from a question
fewer than that many answered. The analysis checks the groups again when it publishes them
(analysis/themes.py). A quote withdrawn, changed or whose response is removed is taken out of
the draft results and every published version at once (publishing.take_out_quotes), not only
left out of the next. Approving and withdrawing are audited (without the words)."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select

from . import audit, publishing, written_masking
from .extensions import db
from .models import Answer, Question, Response, Survey, WrittenQuote
from .population import weighting_variables
from .written_answers import answer_of, masks_of

MAX_QUOTES = 5
MAX_LENGTH = 300


class QuoteRefused(ValueError):
    pass


def quotes(question: Question) -> list[WrittenQuote]:
    return db.session.scalars(select(WrittenQuote).where(WrittenQuote.question_id == question.id)
                              .order_by(WrittenQuote.response_id)).all()


def masked_text(question: Question, response_id: int) -> str | None:
    found = answer_of(question, response_id)
    if found is None:
        return None
    answer, response = found
    spans = masks_of(question, [(response_id, answer.text, response.language)])[response_id]
    return written_masking.masked(answer.text, spans)


def small_groups(survey: Survey, response_id: int) -> list[str]:
    """The breakdown variables in which this respondent's group has fewer respondents than the
    minimum cell size (their question's text)."""
    small = []
    for code, variable in weighting_variables(survey).items():
        question = next(q for q in survey.questions if q.code == code)
        value = db.session.scalar(select(Answer.value).where(Answer.question_id == question.id,
                                                             Answer.response_id == response_id))
        if value is None:
            continue
        same = db.session.scalar(select(func.count()).select_from(Answer).where(
            Answer.question_id == question.id, Answer.value == value))
        if same < survey.min_cell_size:
            small.append(variable.text)
    return small


def _words_of(excerpt: str, masked: str) -> bool:
    """Whether a quote is the masked answer's own words, in order (spaces aside)."""
    return excerpt in " ".join(masked.split())


def approve(survey: Survey, question: Question, response_id: int, excerpt: str, user) -> WrittenQuote:
    masked = masked_text(question, response_id)
    if masked is None:
        raise QuoteRefused("That answer is no longer there (its response was removed).")
    excerpt = " ".join((excerpt or "").split())
    if not excerpt:
        raise QuoteRefused("Choose the words to quote: the whole answer, or a part of it as it is written.")
    if len(excerpt) > MAX_LENGTH:
        raise QuoteRefused(f"Keep a quote under {MAX_LENGTH} characters: choose a part of the answer.")
    if not _words_of(excerpt, masked):
        raise QuoteRefused("A quote must be the answer's own words in order, as masked: cut words from its start "
                           "or end, but do not change or add any (mask more on the answer's masking page first).")
    existing = quotes(question)
    if response_id not in {q.response_id for q in existing} and len(existing) >= MAX_QUOTES:
        raise QuoteRefused(f"At most {MAX_QUOTES} quotes are published per question: withdraw one first.")
    answered = db.session.scalar(select(func.count()).select_from(Answer).join(Response).where(
        Answer.question_id == question.id, Answer.text.is_not(None), Response.survey_id == survey.id))
    if answered < survey.min_cell_size:
        raise QuoteRefused(f"Fewer than {survey.min_cell_size} residents answered this question: no quote may be "
                           "published from so few.")
    small = small_groups(survey, response_id)
    if small:
        raise QuoteRefused(f"This resident's group has fewer than {survey.min_cell_size} respondents in: "
                           f"{'; '.join(small)}. A quote could point to them: choose another answer.")
    quote = db.session.get(WrittenQuote, (question.id, response_id))
    if quote is None:
        quote = WrittenQuote(question_id=question.id, response_id=response_id)
        db.session.add(quote)
    changed = quote.text is not None and quote.text != excerpt
    if changed:  # the words first approved are no longer approved
        take_out(survey, quote)
    quote.text, quote.approved_by_id = excerpt, user.id
    audit.record("quote.approve", f"survey {survey.slug}", user=user, question=question.code, response=response_id)
    db.session.commit()
    if changed:
        settle(survey)
    return quote


def take_out(survey: Survey, quote: WrittenQuote) -> list[int]:
    """This quote's words out of the draft results and every published version, unless another
    resident's approved quote has the very same words; the versions changed. Called before the
    quote's row goes or changes (a failure leaves it approved, so withdrawing again finishes)."""
    same = db.session.scalar(select(func.count()).select_from(WrittenQuote).join(
            Question, Question.id == WrittenQuote.question_id).where(
        Question.survey_id == survey.id, WrittenQuote.text == quote.text,
        (WrittenQuote.question_id != quote.question_id) | (WrittenQuote.response_id != quote.response_id)))
    if same:
        return []
    return publishing.take_out_quotes(survey, {quote.text}, current_app.config["GENERATED_DIR"])


def settle(survey: Survey) -> list[int]:
    """Once the change is committed: whatever is published that no one approves any more goes
    (a publication that read the quote before the change, and finished after it)."""
    return publishing.drop_unapproved_quotes(survey, current_app.config["GENERATED_DIR"])


def after_masking(survey: Survey, question: Question, response_id: int, user) -> bool:
    """Words just masked in an answer whose quote holds them: the quote is withdrawn (it would
    publish what is now masked); whether it was."""
    quote = db.session.get(WrittenQuote, (question.id, response_id))
    if quote is None or _words_of(quote.text, masked_text(question, response_id) or ""):
        return False
    withdraw(survey, question, response_id, user)
    return True


def withdraw(survey: Survey, question: Question, response_id: int, user) -> list[int]:
    """Withdraw an approved quote: out of the results already, before the row goes (so that a
    failure leaves the quote approved, never published without approval). The versions it was in."""
    quote = db.session.get(WrittenQuote, (question.id, response_id))
    if quote is None:
        raise QuoteRefused("That quote is not approved (anymore).")
    versions = take_out(survey, quote)
    db.session.delete(quote)
    audit.record("quote.withdraw", f"survey {survey.slug}", user=user, question=question.code, response=response_id)
    db.session.commit()
    return sorted(set(versions) | set(settle(survey)))
