"""Coding what residents wrote: a codebook of themes per written question, the themes staff give
each answer (one at a time, or in bulk from a search), suggestions learned from the answers
already coded, and a blind second coding of a random sample with agreement per theme.

Roles (``models.Coding``): the *main* coding is what the results use, unless the two coders of a
sampled answer disagreed and settled it (*final*); the *check* coding is the second coder's,
blind (the check page never shows the main coder's themes or suggestions). Agreement compares
main and check as they were coded, so settling does not change it.

Suggestions: scikit-learn (BSD), trained here on this question's own coded answers (masked
text, so that no name is learned), TF-IDF of words and of letter groups (typos, Spanish
endings) and one logistic regression per theme. Never applied by themselves: the coding page
shows them beside the themes, unticked, with the model's probability; what staff ticked is
kept beside what was suggested, so the page can say how often a suggestion was taken.
"""
from __future__ import annotations

import hashlib
import random
import threading
from dataclasses import dataclass

from sqlalchemy import func, select

from . import audit, written_masking
from .analysis.themes import kappa
from .extensions import db
from .models import Answer, Coding, Question, Response, Theme

MAX_THEMES = 30  # the analysis holds a coded answer's themes as bits of a 32-bit mask
MAX_LABEL = 120
MIN_TRAINING = 20  # coded answers before any suggestion
MIN_EXAMPLES = 3  # answers with (and without) a theme before it is suggested
SUGGEST_FROM = 0.5  # probability from which a theme is suggested

# The question bank's open question comes with a starter codebook (English, Spanish).
STARTER_CODEBOOKS = {
    "top_problem": [
        ("Speeding and traffic", "Exceso de velocidad y tráfico"),
        ("Drugs", "Drogas"),
        ("Property crime", "Robos y daños a la propiedad"),
        ("Violence", "Violencia"),
        ("Police response times", "Tiempo de respuesta de la policía"),
        ("Police conduct", "Conducta de la policía"),
        ("Homelessness and disorder", "Personas sin hogar y desorden"),
        ("Lighting and environment", "Alumbrado y entorno"),
        ("Other", "Otro"),
    ],
}


class CodingRefused(ValueError):
    pass


def _target(question: Question) -> str:
    return f"survey {question.survey.slug}"


# --- the codebook ------------------------------------------------------------------------------

def themes(question: Question) -> list[Theme]:
    return db.session.scalars(select(Theme).where(Theme.question_id == question.id)
                              .order_by(Theme.position, Theme.number)).all()


def _clean_label(label: str) -> str:
    label = " ".join((label or "").split())
    if not label:
        raise CodingRefused("Name the theme (for example “Speeding and traffic”).")
    if len(label) > MAX_LABEL:
        raise CodingRefused(f"Keep the theme's name under {MAX_LABEL} characters.")
    return label


def _check_unique(question: Question, label: str, theme: Theme | None = None) -> None:
    same = [t for t in themes(question) if t.label.casefold() == label.casefold() and t is not theme]
    if same:
        raise CodingRefused(f"The codebook already has a theme “{same[0].label}”.")


def add_theme(question: Question, label: str, translations: dict | None = None, user=None) -> Theme:
    label = _clean_label(label)
    _check_unique(question, label)
    existing = themes(question)
    if len(existing) >= MAX_THEMES:
        raise CodingRefused(f"A codebook has at most {MAX_THEMES} themes: merge some first.")
    used = {t.number for t in existing}
    number = next(n for n in range(1, MAX_THEMES + 1) if n not in used)
    theme = Theme(question_id=question.id, number=number, label=label, position=len(existing),
                  translations={k: " ".join(v.split()) for k, v in (translations or {}).items() if v and v.strip()})
    db.session.add(theme)
    audit.record("codebook.add", _target(question), user=user, question=question.code, theme=label)
    db.session.commit()
    return theme


def starter_codebook(question: Question) -> list[tuple[str, str]]:
    """The bank's starter themes for this question, if it has some and its codebook is empty."""
    return STARTER_CODEBOOKS.get(question.code, []) if not themes(question) else []


def add_starter_codebook(question: Question, user=None) -> int:
    starter = starter_codebook(question)
    for position, (label, spanish) in enumerate(starter):
        db.session.add(Theme(question_id=question.id, number=position + 1, label=label, position=position,
                             translations={"es": spanish}))
    if starter:
        audit.record("codebook.starter", _target(question), user=user, question=question.code, themes=len(starter))
        db.session.commit()
    return len(starter)


def change_theme(question: Question, theme: Theme, label: str, translations: dict, user=None) -> None:
    label = _clean_label(label)
    _check_unique(question, label, theme)
    before = theme.label
    theme.label = label
    theme.translations = {k: " ".join(v.split()) for k, v in translations.items() if v and v.strip()}
    audit.record("codebook.change", _target(question), user=user, question=question.code, theme=label,
                 was=before if before != label else None)
    db.session.commit()


def uses_of(question: Question, theme: Theme) -> int:
    """Codings (any role) that give the theme: what removing it takes away."""
    return sum(1 for themes_ in db.session.scalars(select(Coding.themes).where(Coding.question_id == question.id))
               if themes_ and theme.number in themes_)


def remove_theme(question: Question, theme: Theme, user=None) -> int:
    """Remove the theme from the codebook and from every coding; how many codings had it."""
    touched = 0
    for coding in db.session.scalars(select(Coding).where(Coding.question_id == question.id)):
        if coding.themes and theme.number in coding.themes:
            coding.themes = [n for n in coding.themes if n != theme.number]
            touched += 1
    audit.record("codebook.remove", _target(question), user=user, question=question.code, theme=theme.label,
                 codings=touched)
    db.session.delete(theme)
    db.session.commit()
    return touched


# --- coding ------------------------------------------------------------------------------------

def _numbers(question: Question, numbers) -> list[int]:
    valid = {t.number for t in themes(question)}
    chosen = sorted({int(n) for n in numbers if str(n).isdigit()})
    if any(n not in valid for n in chosen):
        raise CodingRefused("A theme of this coding is no longer in the codebook (someone removed it): "
                            "here is the codebook as it is now.")
    return chosen


def _answer_exists(question: Question, response_id: int) -> bool:
    return db.session.scalar(select(func.count()).select_from(Answer).where(
        Answer.question_id == question.id, Answer.response_id == response_id, Answer.text.is_not(None))) == 1


def _coding(question: Question, response_id: int, role: str, user, chosen: list[int]) -> Coding:
    """The answer's coding in ``role``, made or replaced: ``user``'s, with the themes ``chosen``."""
    coding = db.session.get(Coding, (question.id, response_id, role))
    if coding is None:
        coding = Coding(question_id=question.id, response_id=response_id, role=role)
        db.session.add(coding)
    coding.coder_id, coding.themes = user.id, chosen
    return coding


def code_answer(question: Question, response_id: int, numbers, user, suggested=None) -> Coding:
    """The main coding of an answer: the themes ticked (none is a coding too: nothing fits)."""
    chosen = _numbers(question, numbers)
    if not _answer_exists(question, response_id):
        raise CodingRefused("That answer is no longer there (its response was removed).")
    coding = _coding(question, response_id, "main", user, chosen)
    coding.suggested = sorted(int(n) for n in suggested) if suggested is not None else None
    db.session.commit()
    return coding


@dataclass(frozen=True)
class BulkPreview:
    """What giving ``theme`` to the answers found would do, said before it is done."""
    theme: Theme
    found: int
    gaining: int  # answers that would gain the theme
    coded: int  # of those, answers already coded (they keep their other themes)
    sampled: int  # of those, answers in the blind second coder's sample (the first coding changes)


def bulk_preview(question: Question, response_ids: list[int], theme: Theme) -> BulkPreview:
    have = dict(db.session.execute(select(Coding.response_id, Coding.themes).where(
        Coding.question_id == question.id, Coding.role == "main", Coding.response_id.in_(response_ids))).all())
    sampled = set(db.session.scalars(select(Coding.response_id).where(
        Coding.question_id == question.id, Coding.role == "check", Coding.response_id.in_(response_ids))))
    gaining = [r for r in response_ids if theme.number not in (have.get(r) or [])]
    return BulkPreview(theme, len(response_ids), len(gaining), sum(1 for r in gaining if r in have),
                       sum(1 for r in gaining if r in sampled))


def code_in_bulk(question: Question, response_ids: list[int], number: int, user) -> int:
    """Add one theme to the main coding of each answer (the answers a search found); how many
    answers gained it. Audited as one entry."""
    [number] = _numbers(question, [number]) or [None]
    if number is None:
        raise CodingRefused("Choose the theme to give the answers found.")
    have = {c.response_id: c for c in db.session.scalars(select(Coding).where(
        Coding.question_id == question.id, Coding.role == "main", Coding.response_id.in_(response_ids)))}
    gained = 0
    for response_id in response_ids:
        coding = have.get(response_id)
        if coding is None:
            db.session.add(Coding(question_id=question.id, response_id=response_id, role="main", coder_id=user.id,
                                  themes=[number]))
            gained += 1
        elif number not in (coding.themes or []):
            coding.themes = sorted([*(coding.themes or []), number])
            coding.coder_id = user.id
            gained += 1
    theme = next(t for t in themes(question) if t.number == number)
    audit.record("coding.bulk", _target(question), user=user, question=question.code, theme=theme.label,
                 answers=gained)
    db.session.commit()
    return gained


def _written(question: Question):
    return (select(Answer.response_id, Answer.text, Response.language)
            .join(Response, Response.id == Answer.response_id)
            .where(Answer.question_id == question.id, Answer.text.is_not(None), Answer.text != ""))


@dataclass(frozen=True)
class ToCode:
    response_id: int
    text: str  # as written (staff-only; pages show it masked)
    language: str


def themes_given(question: Question, response_ids: list[int]) -> dict[int, list[int]]:
    """The main coding's themes of each of these answers that is coded."""
    return dict(db.session.execute(select(Coding.response_id, Coding.themes).where(
        Coding.question_id == question.id, Coding.role == "main", Coding.response_id.in_(response_ids))).all())


def answer_to_code(question: Question, response_id: int) -> ToCode | None:
    row = db.session.execute(_written(question).where(Answer.response_id == response_id)).first()
    return ToCode(*row) if row else None


def next_to_code(question: Question, after: int | None = None) -> ToCode | None:
    """The next answer without a main coding, in response-id order (ids are random, so the order
    is too) after ``after`` (a skipped answer), wrapping round."""
    coded = select(Coding.response_id).where(Coding.question_id == question.id, Coding.role == "main")
    query = _written(question).where(Answer.response_id.not_in(coded)).order_by(Answer.response_id).limit(1)
    row = None
    if after is not None:
        row = db.session.execute(query.where(Answer.response_id > after)).first()
    row = row or db.session.execute(query).first()
    return ToCode(*row) if row else None


@dataclass(frozen=True)
class Progress:
    answered: int  # written answers
    coded: int  # with a main coding
    suggested: int  # themes suggested when coding
    taken: int  # of which staff ticked


def progress(question: Question) -> Progress:
    answered = db.session.scalar(select(func.count()).select_from(_written(question).subquery()))
    rows = db.session.execute(select(Coding.themes, Coding.suggested).where(
        Coding.question_id == question.id, Coding.role == "main")).all()
    suggested = sum(len(s or []) for _, s in rows)
    taken = sum(len(set(s or []) & set(t or [])) for t, s in rows)
    return Progress(answered, len(rows), suggested, taken)


def effective_codings(question_id: int) -> dict[int, list[int]]:
    """Each coded answer's themes as the results use them: settled (final) where the two coders
    disagreed, else the main coding (analysis/themes.py reads the same, in SQL)."""
    rows = db.session.execute(
        select(Coding.response_id, Coding.role, Coding.themes).where(
            Coding.question_id == question_id, Coding.role.in_(("main", "final")))).all()
    out: dict[int, list[int]] = {}
    for response_id, role, themes_ in sorted(rows, key=lambda r: r.role == "final"):
        out[response_id] = list(themes_ or [])
    return out


# --- suggestions -------------------------------------------------------------------------------

_models: dict[int, tuple[str, object]] = {}
_models_lock = threading.Lock()


class Suggester:
    """Per-theme probabilities for an answer, from this question's coded answers."""

    def __init__(self, texts: list[str], codings: list[list[int]], numbers: list[int]):
        import numpy as np
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion

        self.features = FeatureUnion([
            ("words", TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)),
            ("letters", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True)),
        ])
        matrix = self.features.fit_transform(texts)
        self.models = {}
        for number in numbers:
            target = np.array([number in coded for coded in codings])
            if MIN_EXAMPLES <= target.sum() <= len(target) - MIN_EXAMPLES:
                self.models[number] = LogisticRegression(C=10.0, max_iter=1000, class_weight="balanced").fit(
                    matrix, target)

    def probabilities(self, text: str) -> dict[int, float]:
        row = self.features.transform([text])
        return {number: float(model.predict_proba(row)[0, 1]) for number, model in self.models.items()}


def _training(question: Question) -> tuple[list[str], list[list[int]]]:
    codings = effective_codings(question.id)
    rows = db.session.execute(_written(question).where(Answer.response_id.in_(list(codings)))).all() if codings else []
    from .written_answers import masks_of  # masked text: no name is learned

    masks = masks_of(question, [tuple(r) for r in rows])
    return ([written_masking.masked(r.text, masks[r.response_id]) for r in rows],
            [codings[r.response_id] for r in rows])


def suggester(question: Question) -> Suggester | None:
    """The model for the question's codings as they are now (kept per process until they change);
    None until MIN_TRAINING answers are coded."""
    codings = effective_codings(question.id)
    if len(codings) < MIN_TRAINING:
        return None
    numbers = [t.number for t in themes(question)]
    key = hashlib.sha256(repr((sorted(codings.items()), numbers)).encode()).hexdigest()
    with _models_lock:
        kept = _models.get(question.id)
        if kept and kept[0] == key:
            return kept[1]
    texts, labels = _training(question)
    model = Suggester(texts, labels, numbers)
    with _models_lock:
        _models[question.id] = (key, model)
    return model


def suggestions(question: Question, text: str) -> list[tuple[int, float]]:
    """(theme number, probability) from SUGGEST_FROM up, likeliest first."""
    model = suggester(question)
    if model is None or not model.models:
        return []
    found = [(n, p) for n, p in model.probabilities(text).items() if p >= SUGGEST_FROM]
    return sorted(found, key=lambda item: -item[1])


# --- agreement ---------------------------------------------------------------------------------

def draw_sample(question: Question, size: int, user, rng: random.Random | None = None) -> int:
    """Draw ``size`` more answers with a main coding, at random, for a second coder; how many."""
    if size < 1:
        raise CodingRefused("Choose how many answers the second coder should code (at least 1).")
    in_sample = select(Coding.response_id).where(Coding.question_id == question.id, Coding.role == "check")
    candidates = db.session.scalars(select(Coding.response_id).where(
        Coding.question_id == question.id, Coding.role == "main", Coding.response_id.not_in(in_sample))
        .order_by(Coding.response_id)).all()
    if not candidates:
        raise CodingRefused("Every coded answer is in the sample already, or none is coded yet: code some first.")
    drawn = (rng or random.SystemRandom()).sample(candidates, min(size, len(candidates)))
    for response_id in drawn:
        db.session.add(Coding(question_id=question.id, response_id=response_id, role="check"))
    audit.record("coding.sample", _target(question), user=user, question=question.code, answers=len(drawn))
    db.session.commit()
    return len(drawn)


def next_to_check(question: Question, user) -> ToCode | None:
    """A sampled answer waiting for its second coding that ``user`` did not code first."""
    main = Coding.__table__.alias("main")
    waiting = (select(Coding.response_id).join(main, (main.c.question_id == Coding.question_id)
                                               & (main.c.response_id == Coding.response_id) & (main.c.role == "main"))
               .where(Coding.question_id == question.id, Coding.role == "check", Coding.themes.is_(None),
                      (main.c.coder_id.is_(None)) | (main.c.coder_id != user.id)))
    row = db.session.execute(_written(question).where(Answer.response_id.in_(waiting))
                             .order_by(Answer.response_id).limit(1)).first()
    return ToCode(*row) if row else None


def check_answer(question: Question, response_id: int, numbers, user) -> None:
    chosen = _numbers(question, numbers)
    coding = db.session.get(Coding, (question.id, response_id, "check"))
    main = db.session.get(Coding, (question.id, response_id, "main"))
    if coding is None or coding.themes is not None:
        raise CodingRefused("That answer is not waiting for a second coding (another coder did it).")
    if main is not None and main.coder_id == user.id:
        raise CodingRefused("You coded this answer first: a second coding must be someone else's.")
    coding.coder_id, coding.themes = user.id, chosen
    db.session.commit()


@dataclass(frozen=True)
class ThemeAgreement:
    theme: Theme
    both: int
    only_main: int
    only_check: int
    neither: int
    kappa: float | None


@dataclass(frozen=True)
class Agreement:
    pairs: int  # answers coded twice
    waiting: int  # sampled, not yet coded a second time
    themes: list[ThemeAgreement]
    disagreements: list[tuple[int, list[int], list[int], list[int] | None]]  # response, main, check, final

    @property
    def mean_kappa(self) -> float | None:
        values = [t.kappa for t in self.themes if t.kappa is not None]
        return sum(values) / len(values) if values else None


def agreement(question: Question) -> Agreement:
    rows = db.session.execute(select(Coding.response_id, Coding.role, Coding.themes)
                              .where(Coding.question_id == question.id)).all()
    by_role: dict[str, dict[int, list[int] | None]] = {"main": {}, "check": {}, "final": {}}
    for response_id, role, themes_ in rows:
        by_role[role][response_id] = themes_
    pairs = {r: (set(by_role["main"][r] or []), set(c)) for r, c in by_role["check"].items()
             if c is not None and r in by_role["main"]}
    waiting = sum(1 for c in by_role["check"].values() if c is None)
    table = []
    for theme in themes(question):
        n = theme.number
        both = sum(1 for m, c in pairs.values() if n in m and n in c)
        only_main = sum(1 for m, c in pairs.values() if n in m and n not in c)
        only_check = sum(1 for m, c in pairs.values() if n not in m and n in c)
        neither = len(pairs) - both - only_main - only_check
        table.append(ThemeAgreement(theme, both, only_main, only_check, neither,
                                    kappa(both, only_main, only_check, neither)))
    disagreements = [(r, sorted(m), sorted(c), by_role["final"].get(r)) for r, (m, c) in sorted(pairs.items())
                     if m != c]
    return Agreement(len(pairs), waiting, table, disagreements)


def settle(question: Question, response_id: int, numbers, user) -> None:
    """What the two coders agreed on for an answer they coded differently (the results use it)."""
    chosen = _numbers(question, numbers)
    if db.session.get(Coding, (question.id, response_id, "check")) is None:
        raise CodingRefused("That answer was not coded twice.")
    _coding(question, response_id, "final", user, chosen)
    audit.record("coding.settle", _target(question), user=user, question=question.code, response=response_id)
    db.session.commit()


# --- the demo ----------------------------------------------------------------------------------

def code_demo_answers(survey, share: float = 0.85, check: int = 60, seed: int = 2026) -> int:
    """The demo's written answers coded as a person would (``synthetic.PROBLEM_THEMES``) with the
    bank's starter codebook: ``share`` of them, and a second coding of ``check`` of those that
    disagrees on one in ten, so that every coding page and the published themes have something
    to show. Coded by nobody (the demo has no staff); stored in bulk. How many were coded."""
    from sqlalchemy import insert

    from .synthetic import PROBLEM_THEMES

    from .written_answers import text_questions

    question = next((q for q in text_questions(survey) if q.code in STARTER_CODEBOOKS), None)
    if question is None:
        return 0
    add_starter_codebook(question)
    numbers = {t.label: t.number for t in themes(question)}
    answers = db.session.execute(select(Answer.response_id, Answer.text).where(Answer.question_id == question.id)
                                 .order_by(Answer.response_id)).all()
    rng = random.Random(seed)
    coded = [(r, sorted(numbers[label] for label in PROBLEM_THEMES.get(t, ("Other",))))
             for r, t in answers if rng.random() < share]
    rows = [{"question_id": question.id, "response_id": r, "role": "main", "themes": chosen} for r, chosen in coded]
    for i, (r, chosen) in enumerate(rng.sample(coded, min(check, len(coded)))):
        second = chosen if i % 10 else [numbers["Other"]]
        rows.append({"question_id": question.id, "response_id": r, "role": "check", "themes": second})
    if rows:
        db.session.execute(insert(Coding), rows)
    db.session.commit()
    return len(coded)
