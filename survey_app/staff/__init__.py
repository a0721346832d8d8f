"""Staff pages: sign-in, staff accounts, the audit log, the questionnaire designer and its
translations, fieldwork and stored responses, weighting and analysis, publishing, and
background jobs.

Every view but signing in requires a signed-in staff member; what each role may do is
checked per view (``access.py``) and the pages only offer what the role allows.
"""
from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

from . import admin, auth, coding, designer, fieldwork, jobs, publishing, responses, translations, weighting, written  # noqa: E402,F401  (register the views on bp)
