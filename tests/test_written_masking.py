"""Masking personal data in what residents wrote (survey_app/written_masking.py), counted on a test
set of realistic answers written for it: each {kind:words} is what must be masked; everything
else must stay. The counts are printed (pytest -s) and held to a floor."""
from __future__ import annotations

import re
from collections import Counter

import pytest

from survey_app import written_masking

# Answers to "What is the most important safety problem in your neighbourhood?" as residents
# write them: typos, no capitals, Spanish, addresses given to be helpful, names of officers.
TEST_SET = [
    ("en", "Officer {name:Ramirez} was rude to my son. Badge {badge:#4521}. Call me at {phone:(312) 555-0188}."),
    ("en", "Speeding on Elm Street every night, a red truck with plate {plate:7ABC123} does it every day"),
    ("en", "My neighbor {name:John Smith} at {address:1420 W Maple Avenue} sells drugs out of his garage"),
    ("en", "The park on Virginia Avenue has no lights at all. email me at {email:ann.lee@example.org}"),
    ("en", "Drugs near Lincoln Elementary and homeless camps by the river"),
    ("en", "cars racing down 5th street at 2am, nobody ever comes"),
    ("en", "Police take 45 minutes to respond when you call 911"),
    ("en", "Break-ins on our block, three cars in May. I live at {address:88 Oak Court}, text {phone:773-555-0142}"),
    ("en", "Sgt. {name:Miller} and {name:Officer Davis} were great when my car was stolen"),
    ("en", "Det. {name:Karen Walsh} never called back about the burglary"),
    ("en", "Not enough street lights on Maple and 3rd, women don't feel safe walking home"),
    ("en", "The guy in the blue Honda, licence plate {plate:KX52 ABC}, deals by the school every afternoon"),
    ("en", "my name is {name:Maria Gonzalez} and I have reported the noise 10 times"),
    ("en", "Homeless encampment under the bridge, trash and needles everywhere"),
    ("en", "People speeding on Highway 41 near the exit"),
    ("en", "gang activity, shootings on weekends near the liquor store"),
    ("en", "Officer {name:Chen}, badge number {badge:2291}, stopped me for no reason"),
    ("en", "Traffic at the school drop off is dangerous, a kid was almost hit last week"),
    ("en", "Dogs off leash in Jefferson Park, and the lights are out"),
    ("en", "My son {name:Tyrone Jackson} was stopped three times this month because of how he looks"),
    ("en", "Mr. {name:Patel} at the corner store keeps getting robbed"),
    ("en", "Someone keeps stealing packages, please patrol {address:2200 N Clark St}"),
    ("en", "Catalytic converter thefts. Reach me at {email:j.ortiz@mail.com} or {phone:+1 415 555 0199}"),
    ("en", "The response time is too slow and nobody follows up"),
    ("en", "Fireworks every night in July, 2 hours at a time"),
    ("en", "Deputy {name:Brooks} was kind and helpful"),
    ("en", "A white van, tag {plate:DLR-4471}, parks on our street all night"),
    ("en", "I called about the break in at 10:30pm and waited 2 hours"),
    ("en", "We need more patrols on Washington Street after dark"),
    ("en", "Police were disrespectful to my mother {name:Linda Brown} at the traffic stop"),
    ("es", "El agente {name:García} no vino. Vivo en {address:Calle Mayor 12}, mi teléfono es {phone:612 345 678}"),
    ("es", "Coches a toda velocidad por la Avenida de la Paz, matrícula {plate:1234 BCD}"),
    ("es", "{name:Sra. López} dice que la policía tarda mucho en llegar"),
    ("es", "Venta de drogas en el parque todos los días"),
    ("es", "Mucha basura y falta de alumbrado en la calle"),
    ("es", "Me llamo {name:Juan Pérez} y nadie responde a mis llamadas"),
    ("es", "El oficial con placa {badge:7734} me trató muy mal"),
    ("es", "Robos de coches cerca de la estación, llámenme al {phone:+34 699 123 456}"),
    ("es", "Los jóvenes corren con las motos por la noche"),
    ("es", "La policía tarda más de una hora cuando hay peleas"),
    ("es", "Mi vecina {name:Carmen Ruiz} vio el robo, vive en {address:Calle del Olmo 7}"),
    ("es", "Falta de patrullas en el barrio y personas sin hogar en la plaza"),
    ("es", "Escríbanme a {email:rosa.m@correo.es}, hay peleas cada fin de semana"),
    ("es", "El tráfico frente a la escuela es peligroso"),
    ("es", "Hay un carro abandonado con placas {plate:ABC-123} hace meses"),
    # Harder ones, written after the rules: some are missed or masked wrongly, and counted so.
    ("en", "ask for {name:dave} at the corner store, he saw everything"),
    ("en", "{name:Kowalski} keeps parking on the sidewalk and blocking the ramp"),
    ("en", "call me {phone:555-0199} after six"),
    ("en", "Grace Church parking lot is dark and people get mugged there"),
    ("en", "Mark my words, someone will get hurt at that intersection"),
    ("en", "Speeding on Dr. King Boulevard near the 1200 block"),
    ("en", "Fireworks on the 4th of July and all of August"),
    ("en", "Route 66 underpass floods and has no lights"),
    ("en", "Students from Virginia Tech party loudly every weekend"),
    ("en", "Officer presence downtown would help a lot"),
    ("es", "pregunten por {name:doña Rosa}, ella sabe quién fue"),
]
TITLE_PREFIX = re.compile(r"^(?:officer|sra\.|doña)\s+", re.IGNORECASE)
KNOWN_FALSE_ALARMS = {"Speeding on Dr. King Boulevard near the 1200 block"}  # "Dr." read as a title


def parse(marked: str) -> tuple[str, list[tuple[int, int, str]]]:
    """The plain text and the spans to mask, from {kind:words} marks."""
    text, spans, at = [], [], 0
    for match in re.finditer(r"\{(\w+):([^}]*)\}", marked):
        text.append(marked[at:match.start()])
        start = sum(len(piece) for piece in text)
        words = match.group(2)
        title = TITLE_PREFIX.match(words) if match.group(1) == "name" else None
        offset = title.end() if title else 0  # "Officer Davis": the name is Davis, the title may stay
        text.append(words)
        spans.append((start + offset, start + len(words), match.group(1)))
        at = match.end()
    text.append(marked[at:])
    return "".join(text), spans


def counts() -> dict[str, Counter]:
    tally = {kind: Counter() for kind in written_masking.KINDS}
    for language, marked in TEST_SET:
        text, expected = parse(marked)
        found = {(s.start, s.end, s.kind) for s in written_masking.find(text, language)}
        for start, end, kind in expected:
            # Found: a span of the right kind covering the words (a title taken along is fine).
            hit = any(k == kind and s <= start and e >= end and e - s <= end - start + 12 for s, e, k in found)
            tally[kind]["true positive" if hit else "missed"] += 1
        for start, end, kind in found:
            if not any(k == kind and start <= s and end >= e and end - start <= e - s + 12 for s, e, k in expected):
                tally[kind]["false positive"] += 1
    return tally


def test_masking_on_realistic_answers_finds_nearly_all_and_little_else():
    tally = counts()
    print()
    for kind, c in tally.items():
        print(f"{kind:8} true positives {c['true positive']:3}  missed {c['missed']:2}  false positives {c['false positive']:2}")
    total = sum(tally.values(), Counter())
    recall = total["true positive"] / (total["true positive"] + total["missed"])
    precision = total["true positive"] / (total["true positive"] + total["false positive"])
    print(f"all      recall {recall:.2f}  precision {precision:.2f}")
    assert total["true positive"] + total["missed"] == sum(len(parse(m)[1]) for _, m in TEST_SET) == 40
    # Measured on this set: recall 0.93, precision 0.97 (a lower-case name, a surname alone and a local number
    # without its area code are missed; "Dr. King" is taken for a name). A change to the rules that loses more fails here.
    assert recall >= 0.9 and precision >= 0.9
    for kind, c in tally.items():  # every kind is found at least most of the time
        assert c["true positive"] >= 2 * c["missed"], kind


def test_answers_without_personal_data_are_left_whole():
    for language, marked in TEST_SET:
        text, expected = parse(marked)
        if not expected and text not in KNOWN_FALSE_ALARMS:
            assert written_masking.find(text, language) == [], text


def test_masked_text_and_pieces():
    text = "Officer Ramirez, badge #4521, call (312) 555-0188"
    spans = written_masking.find(text)
    assert written_masking.masked(text, spans) == "Officer [name], badge [badge], call [phone]"
    assert "".join(piece for piece, _ in written_masking.pieces(text, spans)) == text
    assert [span.kind for _, span in written_masking.pieces(text, spans) if span] == ["name", "badge", "phone"]


def test_staff_added_spans_win_over_found_ones_and_nothing_is_fetched(monkeypatch):
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("masking tried to reach the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    text = "write to bo@example.com about the dog on Pine"
    found = written_masking.find(text)
    assert [s.kind for s in found] == ["email"]
    staff = written_masking.staff_span(text, "the  dog", "name")
    assert [(text[s.start:s.end], s.by) for s in staff] == [("the dog", "staff")]
    assert written_masking.staff_span(text, "cat", "name") == []
    assert written_masking.merge(found + written_masking.staff_span(text, "bo@example", "name"))[0].by == "staff"


@pytest.mark.parametrize("text", ["", "   ", "no", "12345"])
def test_short_or_empty_answers(text):
    assert written_masking.find(text) == []
