"""Forms of the staff pages (Flask-WTF, CSRF on)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from ..accounts import MIN_PASSWORD_LENGTH
from ..models import STAFF_ROLES
from ..questionnaire.bank import CONSTRUCTS
from ..questionnaire import settings
from ..questionnaire.question_types import QUESTION_TYPES
from ..questionnaire.types import CODE_PATTERN, DEFAULT_NUMBER_RANGE, NUMBER_LIMIT, SCALES, plain_number

def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms 3.3+ wants them."""
    return [SelectChoice(value, label) for value, label in pairs]


class SettingRule:
    """Validator: the survey setting's one rule (questionnaire/settings.py), as every other way in."""

    def __init__(self, name: str):
        self.name = name

    def __call__(self, form, field) -> None:
        try:
            settings.check(self.name, field.data)
        except settings.SettingRefused as refused:
            raise ValidationError(refused.message) from None


ACCESS_MODE_CHOICES = (
    ("open", "Open link: anyone with the address answers, once per browser"),
    ("invitation", "Invitation codes: one single-use code per sampled address"),
)
ROLE_CHOICES = choices((r, r.capitalize()) for r in STAFF_ROLES)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter your email address.")])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])
    next = HiddenField()


class NewUserForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter an email address."),
                                            Email("Enter a valid email address.")])
    name = StringField("Name", validators=[DataRequired("Enter a name."), Length(max=200)])
    role = SelectField("Role", choices=ROLE_CHOICES)
    password = PasswordField(
        f"Temporary password (at least {MIN_PASSWORD_LENGTH} characters)",
        validators=[DataRequired("Enter a password."),
                    Length(min=MIN_PASSWORD_LENGTH, message=f"Use at least {MIN_PASSWORD_LENGTH} characters.")])


class UserUpdateForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)
    active = BooleanField("Account active")
    unlock = BooleanField("Clear failed sign-ins and unlock")


class PasswordResetForm(FlaskForm):
    temporary = PasswordField(
        "Temporary password",
        description="Give it to the person by another channel; they must choose their own at their next sign-in.",
        validators=[DataRequired("Enter a temporary password.")])


class CodeForm(FlaskForm):
    code = StringField("Code", description="The 6-digit code your authenticator app shows now, or one of your "
                       "recovery codes.", validators=[DataRequired("Enter the code.")])


class TwoFactorOffForm(FlaskForm):
    password = PasswordField("Your password", validators=[DataRequired("Enter your password.")])


class PasswordChangeForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired("Enter your current password.")])
    new = PasswordField(f"New password (at least {MIN_PASSWORD_LENGTH} characters, not easy to guess)",
                        validators=[DataRequired("Enter a new password.")])
    confirm = PasswordField("New password again",
                            validators=[DataRequired("Enter the new password again."),
                                        EqualTo("new", "The two new passwords are not the same.")])


class NewSurveyForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired("Enter a title."), SettingRule("title")])
    slug = StringField("Web address name", description="Lowercase letters, digits and hyphens, e.g. trust-2027.",
                       validators=[DataRequired("Enter a web address name."), SettingRule("slug")])


class SurveySettingsForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired("Enter a title."), SettingRule("title")])
    introduction = TextAreaField("Introduction", validators=[SettingRule("introduction")])
    consent_text = TextAreaField("Consent text", validators=[SettingRule("consent_text")])
    thank_you_text = TextAreaField("Thank-you text", validators=[SettingRule("thank_you_text")])
    opens_at = StringField("Opens (optional, YYYY-MM-DD HH:MM, UTC)", validators=[SettingRule("opens_at")])
    closes_at = StringField("Closes (optional, YYYY-MM-DD HH:MM, UTC)", validators=[SettingRule("closes_at")])
    min_cell_size = IntegerField("Minimum cell size for published figures",
                                 validators=[InputRequired("Enter a number."), SettingRule("min_cell_size")])
    access_mode = SelectField("How residents get in", choices=choices(ACCESS_MODE_CHOICES),
                              description="Can change only while the survey is a draft.")


class PageForm(FlaskForm):
    title = StringField("Page title", validators=[Length(max=200)])
    display_condition = TextAreaField("Show this page only when (optional JSON condition)",
                                      validators=[Optional(), Length(max=5000)])


QUESTION_TYPE_CHOICES = choices((name, t.label) for name, t in QUESTION_TYPES.items())
CONSTRUCT_CHOICES = choices([("", "None")] + list(CONSTRUCTS.items()))


class QuestionForm(FlaskForm):
    code = StringField("Variable name", description="Used in results and open data; a-z, 0-9 and _.",
                       validators=[DataRequired("Enter a variable name."),
                                   Regexp(CODE_PATTERN, message="Start with a letter; use only a-z, 0-9 and _.")])
    type = SelectField("Type", choices=QUESTION_TYPE_CHOICES)
    text = TextAreaField("Question text", validators=[DataRequired("Enter the question."), Length(max=10_000)])
    help_text = TextAreaField("Help text", validators=[Optional(), Length(max=10_000)])
    required = BooleanField("Required")
    construct = SelectField("Construct (which index it feeds)", choices=CONSTRUCT_CHOICES, validate_choice=False)
    reverse_coded = BooleanField("Reverse-coded (agreeing means less trust)")
    scale = SelectField("Scale", choices=choices((s, s.capitalize()) for s in SCALES))
    missing = SelectMultipleField("Also offer", choices=choices([("dont_know", "Don't know"),
                                                                 ("prefer_not_to_say", "Prefer not to say")]))
    options = TextAreaField("Answer options, or a matrix's statements, one per line (\"code | label\"; "
                            "a new line without a code gets one; a matrix statement may end with \"| reversed\")",
                            validators=[Optional(), Length(max=20_000)])
    ordered = SelectField("Ordered options", choices=choices([("", "Not ordered"),
                                                              ("first_high", "First is most favourable"),
                                                              ("last_high", "Last is most favourable")]),
                          validate_choice=False)
    other = BooleanField("Add \"Other (please specify)\"")
    minimum = StringField("Smallest allowed number", validators=[Optional()],
                          description=f"Empty: {plain_number(DEFAULT_NUMBER_RANGE[0])} (or "
                                      f"-{plain_number(NUMBER_LIMIT)} if the largest is below it).")
    maximum = StringField("Largest allowed number", validators=[Optional()],
                          description=f"Empty: {plain_number(DEFAULT_NUMBER_RANGE[1])} (or "
                                      f"{plain_number(NUMBER_LIMIT)} if the smallest is above it). Bounds go up to "
                                      f"±{plain_number(NUMBER_LIMIT)}; residents see the range under the box.")
    decimals = IntegerField("Decimals allowed", default=0, validators=[Optional(), NumberRange(min=0, max=6)])
    max_length = IntegerField("Longest answer (characters)", default=500,
                              validators=[Optional(), NumberRange(min=1, max=10_000)])
    multiline = BooleanField("Long answer (several lines)", default=True)
    display_condition = TextAreaField("Show only when (optional JSON condition)",
                                      validators=[Optional(), Length(max=5000)])
    page_id = SelectField("Page", coerce=int, validate_choice=False)


class BankAddForm(FlaskForm):
    codes = SelectMultipleField("Questions", validate_choice=False)
    page_id = SelectField("Add to page", coerce=int, validate_choice=False)


class ImportForm(FlaskForm):
    file = FileField("Survey definition (JSON)", validators=[
        FileRequired("Choose a JSON file."), FileAllowed(["json"], "Choose a .json file (a survey definition).")])


class NextWaveForm(FlaskForm):
    slug = StringField("Web address name of the new wave",
                       validators=[DataRequired("Enter a web address name."), SettingRule("slug")])


class StatusForm(FlaskForm):
    status = SelectField("Status", choices=choices([("draft", "Draft"), ("open", "Open"), ("closed", "Closed")]))


class ConfirmForm(FlaskForm):
    """A button that changes data: the form carries only the CSRF token."""


def _number(text: str | None, label: str):
    from ..questionnaire.editing import EditRefused

    if text is None or not str(text).strip():
        return None
    try:
        value = float(str(text).strip().replace(",", "."))
    except ValueError:
        raise EditRefused(f"{label}: '{text}' is not a number") from None
    return int(value) if value.is_integer() else value


def item_from_form(form: QuestionForm, existing_options: list[tuple[int, str]] = ()) -> dict:
    """The question the editor describes, in the definition format (EditRefused if a field is unusable)."""
    from ..questionnaire.editing import options_from_lines

    qtype = form.type.data
    item = {"code": form.code.data.strip(), "type": qtype, "text": form.text.data.strip(),
            "help_text": (form.help_text.data or "").strip(), "required": bool(form.required.data)}
    if form.construct.data:
        item["construct"] = form.construct.data
    if form.reverse_coded.data:
        item["reverse_coded"] = True
    if qtype in ("scale", "matrix"):
        item["config"] = {"scale": form.scale.data, "missing": list(form.missing.data or [])}
    if qtype == "matrix":
        item["rows"] = rows_from_lines(form.options.data, item["code"])
    elif qtype in ("single_choice", "dropdown", "multiple_choice"):
        item["options"] = options_from_lines(form.options.data, existing_options)
        if qtype != "multiple_choice" and form.ordered.data:
            item["config"] = {"ordered": form.ordered.data}
        if qtype == "multiple_choice" and form.other.data:
            item["config"] = {"other": True}
    elif qtype == "numeric":
        item["config"] = {"min": _number(form.minimum.data, "smallest allowed number"),
                          "max": _number(form.maximum.data, "largest allowed number"),
                          "decimals": form.decimals.data or 0}
    elif qtype == "text":
        item["config"] = {"max_length": form.max_length.data or 500, "multiline": bool(form.multiline.data)}
    condition = condition_from_text(form.display_condition.data)
    if condition is not None:
        item["display_condition"] = condition
    return item


def condition_from_text(text: str | None):
    """A display condition typed as JSON, or None if blank (EditRefused if it is not JSON)."""
    from ..questionnaire.editing import EditRefused
    from ..uploads import ParseRefused, parse_json

    text = (text or "").strip()
    if not text:
        return None
    try:
        return parse_json(text)
    except ParseRefused as error:
        raise EditRefused(f"display condition: {error}") from None


def fill_question_form(form: QuestionForm, question) -> None:
    """Put a stored question into the editor."""
    import json

    config = question.config or {}
    form.code.data, form.type.data, form.text.data = question.code, question.type, question.text
    form.help_text.data, form.required.data = question.help_text, question.required
    form.construct.data, form.reverse_coded.data = question.construct or "", question.reverse_coded
    form.scale.data = config.get("scale", "agreement")
    form.missing.data = config.get("missing", ["dont_know"]) if question.type == "scale" else []
    if question.type == "matrix":
        form.options.data = "\n".join(f"{r.code} | {r.text}" + (" | reversed" if r.reverse_coded else "")
                                      for r in sorted(question.rows, key=lambda q: q.position))
    elif question.type != "scale":
        form.options.data = "\n".join(f"{o.code} | {o.label}" for o in question.options)
    form.ordered.data = config.get("ordered", "")
    form.other.data = bool(config.get("other"))
    form.minimum.data = "" if config.get("min") is None else plain_number(config["min"]).replace(",", "")
    form.maximum.data = "" if config.get("max") is None else plain_number(config["max"]).replace(",", "")
    form.decimals.data = config.get("decimals", 0)
    form.max_length.data = config.get("max_length", 500)
    form.multiline.data = config.get("multiline", True)
    form.display_condition.data = json.dumps(question.display_condition) if question.display_condition else ""
    form.page_id.data = question.page_id


def rows_from_lines(text: str | None, matrix_code: str) -> list[dict]:
    """A matrix's statements from the editor: "code | statement" (add "| reversed" for reverse-coded);
    a line with the statement only gets the code <matrix>_<n>."""
    from ..questionnaire.editing import EditRefused

    rows = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 1:
            code, statement, flags = f"{matrix_code}_{len(rows) + 1}"[:64], parts[0], []
        else:
            code, statement, flags = parts[0], parts[1], parts[2:]
        if not statement:
            raise EditRefused(f"statements, line {number}: the statement is empty")
        row = {"code": code, "text": statement}
        if any(flag.lower() in ("reversed", "reverse", "reverse-coded") for flag in flags):
            row["reverse_coded"] = True
        rows.append(row)
    return rows


class InvitationForm(FlaskForm):
    count = IntegerField("How many codes", validators=[
        InputRequired("Enter how many codes to make."),
        NumberRange(min=1, max=20_000, message="Make between 1 and 20,000 codes at a time.")])


class ResponseImportForm(FlaskForm):
    file = FileField("Responses (CSV, UTF-8)", validators=[
        FileRequired("Choose a CSV file."), FileAllowed(["csv", "txt"], "Choose a .csv file.")])
