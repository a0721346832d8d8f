"""Personal data out of what residents wrote, before anyone codes or quotes it: names, phone
numbers, email addresses, street addresses, licence plates and badge numbers are found and
masked ("[name]", "[phone]", ...). Staff see what was masked, mask more or unmask a false alarm
(written_answers.py keeps their choice in ``WrittenMask``); the original stays in the answer,
staff-only.

Library: Microsoft Presidio's analyzer (MIT, https://microsoft.github.io/presidio/): its
recognizer framework (patterns with scores, overlapping results resolved) and its phone
(Google's libphonenumber) and email recognizers. Presidio finds names with a spaCy model; no
official spaCy model is published on the package index and nothing here may download one at
run time, so the NLP engine is a blank spaCy pipeline (tokens only) and names are found by
rules instead: a capitalised name after a title or role ("Officer Ramirez", "Sra. López"),
after "my name is" / "me llamo" / "named", and a capitalised surname after a common first
name (FIRST_NAMES). A name written in lower case, or without any of these cues, is missed:
tests/test_written_masking.py counts what these rules find and miss on realistic answers.
Presidio's email recognizer checks domains with tldextract, which fetches the public suffix
list from the web on first use: here it reads only the copy inside the package.

Street addresses need a house number ("1420 Elm Street", "Calle Mayor 12"): a street named
alone ("speeding on Elm Street") is where a problem is, which the answer is about, not a
person's address. Plates and badge numbers need their cue word ("plate", "placa", "badge",
"#"), or a plate's own shape (7ABC123, 1234 BCD).
"""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import regex

RULES = 1  # raise when the rules change: answers masked by older rules (and never edited) are masked again

# What is masked, by its mark in the masked text ("[name]"), in words for staff.
KINDS = {"name": "a name", "phone": "a phone number", "email": "an email address", "address": "a street address",
         "plate": "a licence plate", "badge": "a badge number"}
_ENTITY = {"PERSON": "name", "PHONE_NUMBER": "phone", "EMAIL_ADDRESS": "email", "STREET_ADDRESS": "address",
           "LICENCE_PLATE": "plate", "BADGE_NUMBER": "badge"}
MIN_SCORE = 0.35  # Presidio's phone recognizer scores a valid number 0.4 without a cue word
LANGUAGES = ("en", "es")

# Common first names in the cities these surveys serve (US Census and INE lists' most frequent,
# English and Spanish): a capitalised word after one of them is taken for a surname.
FIRST_NAMES = """
James John Robert Michael William David Richard Joseph Thomas Charles Christopher Daniel Matthew
Anthony Mark Donald Steven Paul Andrew Joshua Kenneth Kevin Brian George Timothy Ronald Edward Jason
Jeffrey Ryan Jacob Gary Nicholas Eric Jonathan Stephen Larry Justin Scott Brandon Benjamin Samuel
Gregory Frank Alexander Raymond Patrick Jack Dennis Jerry Tyler Aaron Jose Adam Nathan Henry Douglas
Zachary Peter Kyle Walter Ethan Jeremy Harold Keith Christian Roger Noah Gerald Carl Terry Sean Austin
Arthur Lawrence Jesse Dylan Bryan Joe Jordan Billy Bruce Albert Willie Gabriel Logan Alan Juan Wayne
Roy Ralph Randy Eugene Vincent Russell Elijah Louis Bobby Philip Johnny Mike Bob Bill Tom Dave Jim
Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Nancy Lisa Betty Margaret
Sandra Ashley Kimberly Emily Donna Michelle Dorothy Carol Amanda Melissa Deborah Stephanie Rebecca
Sharon Laura Cynthia Kathleen Amy Shirley Angela Helen Anna Brenda Pamela Nicole Emma Samantha
Katherine Christine Debra Rachel Catherine Carolyn Janet Ruth Maria Heather Diane Virginia Julie
Joyce Victoria Olivia Kelly Christina Lauren Joan Evelyn Judith Megan Cheryl Andrea Hannah Martha
Jacqueline Frances Gloria Ann Teresa Kathryn Sara Janice Jean Alice Madison Doris Abigail Julia
Judy Grace Denise Amber Marilyn Beverly Danielle Theresa Sophia Marie Diana Brittany Natalie Isabella
Charlotte Rose Alexis Kayla Jasmine Tanya Keisha Latoya Tamika DeShawn Jamal Tyrone Darnell
Antonio Manuel Francisco Javier Carlos Jesús Alejandro Miguel Rafael Pedro Ángel Pablo Fernando
Jorge Luis Alberto Sergio Diego Ramón Enrique Andrés Raúl Mario Eduardo Roberto Ricardo Héctor
Alfonso Santiago Emilio Salvador Guillermo Gustavo Arturo Armando Rubén Víctor Hugo Marco Julio
Carmen Josefa Isabel Dolores Pilar Teresa Rosa Ana Cristina Lucía Laura Marta Elena Francisca
Mercedes Antonia Rosario Concepción Manuela Raquel Beatriz Silvia Patricia Sofía Paula Alicia
Guadalupe Verónica Gabriela Adriana Leticia Claudia Yolanda Margarita Norma Araceli Esperanza
Lupe Juana Marisol Daniela Valeria Ximena Camila Fernanda Alejandra Mariana Paola Carolina Lorena
""".split()

_UPPER = r"[A-ZÁÉÍÓÚÑÜ]"
_LOWER = r"[a-záéíóúñü'’-]"
_WORD = rf"{_UPPER}{_LOWER}+"
_TITLES = (r"officer|ofc\.?|sgt\.?|sergeant|detective|det\.?|deputy|lieutenant|lt\.?|captain|capt\.?|"
           r"chief|trooper|corporal|cpl\.?|mr\.?|mrs\.?|ms\.?|miss|dr\.?|"
           r"agente|oficial|sargento|teniente|capit[aá]n|comisario|se[nñ]or|se[nñ]ora|sr\.?|sra\.?|srta\.?|"
           r"don|do[nñ]a")
_STREET_TYPES = (r"street|st\.?|avenue|ave\.?|av\.?|road|rd\.?|boulevard|blvd\.?|lane|ln\.?|drive|dr\.?|"
                 r"court|ct\.?|place|pl\.?|way|terrace|ter\.?|parkway|pkwy\.?|circle|cir\.?|highway|hwy\.?")
_PLACES = (r"park|school|elementary|middle|high|church|center|centre|plaza|market|mall|station|library|"
           r"bridge|river|creek|hospital|county|city|heights|hills|estates|village|apartments|tech|university|college")
_ES_STREETS = r"calle|c/|avenida|avda\.?|paseo|camino|plaza|carrera|ronda|traves[ií]a"

# (entity, pattern name, regex, score). Case matters (a name is capitalised); cue words
# take any case through (?i:...).
PATTERNS = (
    ("PERSON", "name after a title",
     rf"(?<=\b(?i:{_TITLES})\s+){_WORD}(?:\s+(?!(?i:{_STREET_TYPES})\b){_WORD})?", 0.7),
    ("PERSON", "name introduced",
     rf"(?<=\b(?i:my name is|i am called|named|called|me llamo|mi nombre es|se llama)\s+){_WORD}"
     rf"(?:\s+{_WORD})?", 0.6),
    ("PERSON", "first name and surname",
     rf"\b(?:{'|'.join(FIRST_NAMES)})\s+(?!(?i:{_STREET_TYPES}|{_PLACES})\b){_WORD}"
     rf"(?:\s+(?!(?i:{_STREET_TYPES}|{_PLACES})\b){_WORD})?", 0.6),
    ("STREET_ADDRESS", "number and street",
     rf"\b\d{{1,5}}[A-Za-z]?\s+(?:(?:[NSEW]\.?|North|South|East|West)\s+)?(?:{_WORD}\s+|\d{{1,3}}(?:st|nd|rd|th)\s+)"
     rf"{{1,3}}(?i:{_STREET_TYPES})(?=\W|$)", 0.75),
    ("STREET_ADDRESS", "Spanish street and number",
     rf"\b(?i:{_ES_STREETS})\s+(?:(?:de|del|la|las|los|el)\s+)?{_WORD}(?:\s+(?:de\s+)?{_WORD}){{0,3}},?\s+"
     r"(?i:n[º°o]\.?\s*|n[úu]m(?:ero)?\.?\s*)?\d{1,4}\b", 0.75),
    ("LICENCE_PLATE", "plate after its cue",
     r"(?<=\b(?i:plates?|licen[cs]e(?:\s+plate)?(?:\s+number)?|tag|matr[ií]cula|placas?(?:\s+del\s+(?:coche|carro|auto))?)"
     r"(?:\s+(?i:number|no\.?|is|was|read|de|n[úu]mero|es|era))?\s*[:#]?\s*)"
     r"(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9]{1,4}[- ]?[A-Z0-9]{2,5}\b", 0.75),
    ("LICENCE_PLATE", "California-style plate", r"\b\d[A-Z]{3}\d{3}\b", 0.6),
    ("LICENCE_PLATE", "Spanish plate", r"\b\d{4}[ -]?[BCDFGHJKLMNPRSTVWXYZ]{3}\b", 0.6),
    ("BADGE_NUMBER", "badge number after its cue",
     r"(?<=\b(?i:badge(?:\s+(?:number|no\.?|num\.?))?|officer|ofc\.?|placa(?:\s+(?:n[úu]mero|no\.?))?|"
     r"n[úu]mero\s+de\s+placa|agente)\s*(?:#|n[º°o]\.?)?\s*)(?:#\s*)?\d{2,6}\b", 0.75),
)


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str  # a key of KINDS
    by: str = "found"  # "found" by the rules, or added by "staff"

    def as_row(self) -> list:
        return [self.start, self.end, self.kind, self.by]

    @classmethod
    def from_row(cls, row) -> "Span":
        return cls(int(row[0]), int(row[1]), str(row[2]), str(row[3]))


@functools.cache
def _analyzer():
    """One Presidio analyzer per process (building it takes a second)."""
    import spacy
    import tldextract
    from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry
    from presidio_analyzer.nlp_engine import SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import EmailRecognizer, PhoneRecognizer

    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    offline = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)  # the package's own copy only

    class OfflineEmailRecognizer(EmailRecognizer):
        def validate_result(self, pattern_text: str):
            return offline(pattern_text).fqdn != ""

    class BlankSpacy(SpacyNlpEngine):
        """Tokens only: no model to load (see the module's note on names)."""

        def __init__(self):
            super().__init__(models=[{"lang_code": lang, "model_name": "blank"} for lang in LANGUAGES])

        def load(self) -> None:
            self.nlp = {lang: spacy.blank(lang) for lang in LANGUAGES}

    registry = RecognizerRegistry(supported_languages=list(LANGUAGES))
    for language in LANGUAGES:
        registry.add_recognizer(PhoneRecognizer(supported_language=language,
                                                supported_regions=("US", "CA", "MX", "ES", "GB")))
        registry.add_recognizer(OfflineEmailRecognizer(supported_language=language))
        by_entity: dict[str, list] = {}
        for entity, name, pattern, score in PATTERNS:
            by_entity.setdefault(entity, []).append(Pattern(name=name, regex=pattern, score=score))
        for entity, patterns in by_entity.items():
            registry.add_recognizer(PatternRecognizer(
                supported_entity=entity, patterns=patterns, supported_language=language,
                name=f"{entity.lower()}_{language}", global_regex_flags=regex.DOTALL | regex.MULTILINE))
    return AnalyzerEngine(registry=registry, nlp_engine=BlankSpacy(), supported_languages=list(LANGUAGES))


def find(text: str, language: str = "en") -> list[Span]:
    """What the rules find in ``text``: spans in order, none overlapping (the longer one wins)."""
    if not text or not text.strip():
        return []
    language = language if language in LANGUAGES else "en"
    found = [Span(r.start, r.end, _ENTITY[r.entity_type]) for r in
             _analyzer().analyze(text=text, language=language, entities=list(_ENTITY), score_threshold=MIN_SCORE)]
    return merge(found)


def merge(spans: list[Span]) -> list[Span]:
    """Spans in order without overlaps: of two that overlap, the longer stays (staff's first)."""
    ordered = sorted(spans, key=lambda s: (s.by != "staff", -(s.end - s.start), s.start))
    kept: list[Span] = []
    for span in ordered:
        if all(span.end <= other.start or span.start >= other.end for other in kept):
            kept.append(span)
    return sorted(kept, key=lambda s: s.start)


def masked(text: str, spans: list[Span]) -> str:
    """The text with each span replaced by its kind in brackets."""
    out, at = [], 0
    for span in sorted(spans, key=lambda s: s.start):
        out.append(text[at:span.start])
        out.append(f"[{span.kind}]")
        at = span.end
    out.append(text[at:])
    return "".join(out)


def pieces(text: str, spans: list[Span]) -> list[tuple[str, Span | None]]:
    """The text in pieces, each a span's original words (with the span) or plain text (None): the
    staff page shows what was masked and lets them unmask it."""
    out, at = [], 0
    for span in sorted(spans, key=lambda s: s.start):
        if span.start > at:
            out.append((text[at:span.start], None))
        out.append((text[span.start:span.end], span))
        at = span.end
    if at < len(text):
        out.append((text[at:], None))
    return out


def staff_span(text: str, words: str, kind: str) -> list[Span]:
    """Every place ``words`` occur in ``text`` (case ignored), as spans staff added; [] if none."""
    words = " ".join(words.split())
    if not words or kind not in KINDS:
        return []
    pattern = regex.compile(r"\s+".join(regex.escape(w) for w in words.split()), regex.IGNORECASE)
    return [Span(m.start(), m.end(), kind, "staff") for m in pattern.finditer(text)]
