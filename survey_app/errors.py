"""Error pages: a clear message for the person, the details in the log, never a trace."""
from __future__ import annotations

from flask import render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

MESSAGES = {
    400: (_l("Something was wrong with that request"), _l("Please go back and try again.")),
    404: (_l("Page not found"), _l("Check the address, or go back to the page you came from.")),
    405: (_l("That action is not allowed here"), _l("Please go back and try again.")),
    413: (_l("That was too much data"), _l("Please go back and shorten your answers.")),
    429: (_l("Too many attempts"),
          _l("Please wait a while and try again. Answers you have already saved are kept.")),
}


def _render(code: int, title: str, message: str):
    return render_template("errors/error.html", code=code, title=title, message=message), code


def init_app(app) -> None:
    @app.errorhandler(CSRFError)
    def expired_form(error: CSRFError):
        # Flask-WTF refuses a form whose token is missing or from another session before any
        # view runs: most often a page left open past the end of a staff session.
        return _render(400, _l("This form had expired"),
                       _l("Nothing was changed. Go back, reload the page and do it again; if you were "
                          "signed in, you may have to sign in again first."))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        title, message = MESSAGES.get(error.code, (error.name, error.description))
        body, code = _render(error.code or 500, title, message)
        # Keep what the error says about when to come back (429 and 503 with retry_after).
        return body, code, [(name, value) for name, value in error.get_headers() if name == "Retry-After"]

    @app.errorhandler(InternalServerError)
    def server_error(error):
        # Flask has already logged the exception with its traceback.
        return _render(500, _l("Something went wrong on our side"),
                       _l("Nothing you entered was stored. Please try again in a few minutes."))
