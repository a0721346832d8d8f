"""The results document as the public page reads it (survey_app/results/document.py): typed
items whose wording is in the page's language, English where a text was not translated."""
from survey_app.results import document

RESULTS = {
    "survey": {"title": "Trust"}, "n_responses": 120, "min_cell_size": 10, "weighted": True,
    "generated_at": "2026-12-02T10:00:00", "methodology": {"weighting": {"variables": ["district"]}},
    "questions": [{
        "code": "trust", "text": "I trust the police.", "type": "scale", "kind": "ordinal",
        "labels": {"4": "Agree", "5": "Strongly agree"}, "option_codes": [1, 2, 3, 4, 5, -1], "top": ["4", "5"],
        "estimates": {"overall": [{"statistic": "percent_agree", "estimate": 61.0}],
                      "breakdowns": [{"variable": "district", "groups": [{"code": 1, "label": "North"},
                                                                          {"code": 2, "label": "South"}],
                                      "rows": [], "gaps": []}]},
        "chart": {"svg": "trust.svg", "png": "trust.png"}, "chart_alt": "Bar chart"}],
    "indices": [{"code": "index_overall_trust", "label": "Overall trust index", "text": "Overall trust index (0-100)",
                 "type": "index", "kind": "index", "items": [{"code": "trust", "text": "I trust the police.",
                                                              "reverse_coded": False}],
                 "estimates": {"overall": [{"statistic": "mean", "estimate": 55.0}], "breakdowns": []},
                 "min_items": 1, "alpha": None}],
    "trends": [],
    "translations": {"es": {"title": "Confianza", "variables": {"district": "distrito"},
                            "groups": {"district": {"1": "Norte"}},
                            "items": {"trust": {"text": "Confío en la policía.", "labels": {"4": "De acuerdo", "5": ""},
                                                "chart": {"svg": "es/trust.svg", "png": "es/trust.png"},
                                                "chart_alt": "Gráfico de barras"}}}},
}


def test_english_reads_the_document_as_it_is():
    doc = document.read(RESULTS, "en")
    trust = doc.questions[0]
    assert (doc.title, trust.text, trust.label(4), trust.chart.alt) == ("Trust", "I trust the police.", "Agree", "Bar chart")
    assert trust.breakdowns[0].group_name(2) == "South"
    assert doc.variable_name("district") == "district" and doc.variable_name("years_here") == "years here"
    index = doc.indices[0]
    assert index.is_index and index.text == "Overall trust index" and index.components[0].text == "I trust the police."
    assert index.question_type.chart == "means" and trust.question_type.headline_statistic == "percent_agree"


def test_another_language_takes_its_translations_and_falls_back_to_english():
    doc = document.read(RESULTS, "es")
    trust = doc.questions[0]
    assert (doc.title, trust.text, trust.label(4)) == ("Confianza", "Confío en la policía.", "De acuerdo")
    assert trust.label(5) == "Strongly agree"  # an empty translation is no translation
    assert trust.chart.svg == "es/trust.svg" and trust.chart.alt == "Gráfico de barras"
    assert trust.breakdowns[0].group_name(1) == "Norte" and trust.breakdowns[0].group_name(2) == "South"
    assert doc.variable_name("district") == "distrito" and doc.variable_names(["district"]) == "distrito"
    assert doc.question_text("trust") == "Confío en la policía." and doc.question_text("gone", "Old") == "Old"
