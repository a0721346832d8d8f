"""gunicorn's access log, without the residents' requests.

A resident's requests are the welcome page, Start, each page saved and the last page that
submits. A log line per request, with its time, would place each submission in time to the
second (the response itself keeps only its date), and a resume code once travelled in a
request's path. So requests to the residents' pages (``/s/...``) are not written at all;
staff pages, published results and static files are logged as configured
(``access_log_format`` in gunicorn.conf.py, never with the client's address). Errors still go
to the error log. The reverse proxy in front must do the same (README, Deploying).
"""
from __future__ import annotations

from gunicorn.glogging import Logger

RESIDENT_PATHS = ("/s/",)


def is_resident_request(path: str) -> bool:
    return path.startswith(RESIDENT_PATHS)


class AccessLogWithoutResidents(Logger):
    def access(self, resp, req, environ, request_time):
        if is_resident_request(environ.get("PATH_INFO") or req.path or ""):
            return
        super().access(resp, req, environ, request_time)
