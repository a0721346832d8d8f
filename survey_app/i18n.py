"""Languages: the interface text (Flask-Babel catalogues) and the language a page is shown in.

Interface text is wrapped in ``_()`` / ``lazy_gettext`` and translated in
``survey_app/translations/<lang>/LC_MESSAGES/messages.po``, compiled to ``.mo`` by
``make translations`` (``pybabel compile``). A survey's own text (questions, options,
introduction) is translated by staff and kept on the rows (``questionnaire/translation.py``);
``localized`` picks the right one for the page's language.

The page's language is, in order: the one the resident chose (kept in the session), the best
match of the browser's Accept-Language, English. A survey page only uses a language the
survey is completely translated into (``g.allowed_languages``), so a resident never sees a
Spanish interface around English questions. Staff pages are in English.
"""
from __future__ import annotations

from babel import Locale
from flask import g, has_request_context, request, session
from flask_babel import Babel, get_locale, get_translations

LANGUAGES = {"en": "English", "es": "Español"}
DEFAULT_LANGUAGE = "en"
# Parsed once: Flask-Babel parses what the selector returns on every request, and parsing a
# code looks for the locale's file on disk each time; a Locale is taken as it is.
LOCALES = {code: Locale.parse(code) for code in LANGUAGES}

babel = Babel()


def _language_code() -> str:
    if not has_request_context():  # background jobs
        return DEFAULT_LANGUAGE
    if request.blueprint == "staff":  # staff pages; a preview may ask for a resident's language
        return getattr(request, "preview_language", None) or DEFAULT_LANGUAGE
    allowed = g.get("allowed_languages") or list(LANGUAGES)
    chosen = session.get("lang")
    if chosen in allowed:
        return chosen
    return request.accept_languages.best_match(allowed) or allowed[0]


def select_language() -> Locale:
    code = _language_code()
    return LOCALES.get(code) or Locale.parse(code)


def current_language() -> str:
    return str(get_locale() or DEFAULT_LANGUAGE)


def choose(language: str) -> bool:
    """Remember the resident's choice of language; False if it is not one we offer."""
    if language not in LANGUAGES:
        return False
    if session.get("lang") != language:  # unchanged: the session cookie is not signed and sent again
        session["lang"] = language
    return True


def localized(item, field: str, language: str | None = None) -> str:
    """``item.<field>`` in the page's language: the staff translation if there is one, else the original."""
    language = language or current_language()
    translated = ((getattr(item, "translations", None) or {}).get(language) or {}).get(field)
    return translated or getattr(item, field)


def _template_translations():
    """The request's catalogue for the templates' ``_()``, looked up once per request and locale.

    Flask-Babel's own template functions look the locale and its catalogue up again for every
    string (``get_translations``: the request's Babel context, the locale, its name, the
    cache); a page has tens of strings. The catalogue is kept on that context beside the
    locale it is for, so ``flask_babel.refresh()`` (a change of locale) is followed.
    """
    if not g:
        return get_translations()
    context = g.get("_flask_babel")
    kept = getattr(context, "template_translations", None)
    locale = getattr(context, "babel_locale", None)
    if kept is not None and locale is not None and kept[0] is locale:
        return kept[1]
    translations = get_translations()  # sets the context and its locale
    context = g._flask_babel
    context.template_translations = (getattr(context, "babel_locale", None), translations)
    return translations


def init_app(app) -> None:
    babel.init_app(app, locale_selector=select_language)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _template_translations().ugettext(s),
        ngettext=lambda s, p, n: _template_translations().ungettext(s, p, n),
        pgettext=lambda c, s: _template_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _template_translations().unpgettext(c, s, p, n),
        newstyle=True)
    app.jinja_env.globals.update(localized=localized, current_language=current_language, LANGUAGES=LANGUAGES)

    @app.before_request
    def language_from_link():
        # ``?lang=es`` on any page a link can reach (forms switch language with a button instead).
        if request.method == "GET" and "lang" in request.args:
            choose(request.args["lang"])
