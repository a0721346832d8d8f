"""What residents wrote: a question's written answers, paged, filtered and searched (thin views
over written_answers.py). Only for staff allowed to read them ("read_text"). The search and
filters are posted, so that the words looked for stay out of the address and the logs."""
from __future__ import annotations

from flask import abort, render_template, request

from .. import written_answers as reading
from ..forms.staff import ConfirmForm
from ..response_review import ResponseFilters
from . import bp
from .access import permission_required
from .survey_lookup import survey_or_404


@bp.route("/surveys/<int:survey_id>/written/<code>", methods=["GET", "POST"])
@permission_required("read_text")
def written_answers(survey_id: int, code: str):
    from ..i18n import LANGUAGES
    from ..models import RESPONSE_MODES
    from ..population import weighting_variables

    survey = survey_or_404(survey_id)
    questions = reading.text_questions(survey)
    question = next((q for q in questions if q.code == code), None)
    if question is None:
        abort(404)
    form = ConfirmForm()
    posted = request.method == "POST" and form.validate_on_submit()  # the CSRF check; else page 1, unfiltered
    values = request.form if posted else {}
    filters = ResponseFilters.from_args(values, survey, RESPONSE_MODES, LANGUAGES)
    search = reading.clean_search(values.get("search"))
    page = int(values["page"]) if str(values.get("page", "")).isdigit() else 1
    listing = reading.written_page(survey, question, page, filters, search)
    return render_template("staff/written.html", survey=survey, question=question, listing=listing, form=form,
                           filters=filters, search=search, modes=RESPONSE_MODES, languages=LANGUAGES,
                           groups=weighting_variables(survey), page_size=reading.PAGE_SIZE,
                           others=[q for q in questions if q.code != code],
                           waves=reading.other_waves(survey, question)), 200, {"Cache-Control": "no-store"}
