"""Error pages: a clear message for the person, the details in the log, never a trace."""
from __future__ import annotations

from flask import render_template
from werkzeug.exceptions import HTTPException, InternalServerError

MESSAGES = {
    400: ("Something was wrong with that request", "Please go back and try again."),
    404: ("Page not found", "Check the address, or go back to the page you came from."),
    405: ("That action is not allowed here", "Please go back and try again."),
    413: ("That was too much data", "Please go back and shorten your answers."),
}


def _render(code: int, title: str, message: str):
    return render_template("errors/error.html", code=code, title=title, message=message), code


def init_app(app) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        title, message = MESSAGES.get(error.code, (error.name, error.description))
        return _render(error.code or 500, title, message)

    @app.errorhandler(InternalServerError)
    def server_error(error):
        # Flask has already logged the exception with its traceback.
        return _render(500, "Something went wrong on our side",
                       "Nothing you entered was stored. Please try again in a few minutes.")
