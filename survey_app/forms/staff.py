"""Forms of the staff pages (Flask-WTF, CSRF on)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
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
from ..questionnaire.logic_builder import MAX_RULES, BuilderError, Rule, condition_from_rules, rules_from_condition
from ..questionnaire.logic_builder import TESTS as LOGIC_TESTS
from ..questionnaire import settings
from ..questionnaire.question_types import QUESTION_TYPES, question_type, settings_groups
from ..questionnaire.types import CODE_PATTERN

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


class RuleForm(Form):
    """One rule of the display-logic builder (questionnaire/logic_builder.py); its choices are the
    survey's questions and their answers, which the template lists."""

    question = SelectField("Question", validate_choice=False)
    test = SelectField("Test", choices=choices([("", "choose")] + list(LOGIC_TESTS.items())), validate_choice=False)
    values = SelectMultipleField("Answers", validate_choice=False)
    number = StringField("Number", validators=[Optional(), Length(max=40)])


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
    logic_mode = RadioField("Show this question", default="always", validate_choice=False,
                            choices=choices([("always", "Always"), ("rules", "Only when the rules below hold"),
                                             ("json", "Only when a condition written as JSON holds (for experts)")]))
    logic_join = SelectField("Combine the rules", default="all", validate_choice=False,
                             choices=choices([("all", "every rule must hold"), ("any", "at least one rule must hold")]))
    rules = FieldList(FormField(RuleForm), min_entries=MAX_RULES, max_entries=MAX_RULES)
    display_condition = TextAreaField("Condition as JSON", validators=[Optional(), Length(max=5000)])
    page_id = SelectField("Page", coerce=int, validate_choice=False)


# Each type's settings (question_types/: its settings groups) are fields of the one question form,
# so that staff can switch a new question's type without losing what they typed.
for _group, _kinds in settings_groups():
    for _name, _field in _group.fields().items():
        setattr(QuestionForm, _name, _field)


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


def logic_questions(survey, exclude: str = "") -> dict[str, tuple[str, dict]]:
    """The questions a display rule may be about: code -> (text, {option code: label})."""
    return {q.code: (q.text, {o.code: o.label for o in q.options})
            for q in sorted(survey.questions, key=lambda q: (q.page.position if q.page else 0, q.position))
            if q.code != exclude and question_type(q.type).stores_answers
            and question_type(q.type).condition_target([]) is not None}


def condition_from_form(form: QuestionForm, survey) -> dict | None:
    """The display condition the form describes: by its rules, as JSON, or none. A post without
    the builder's choice (an older form, a script) is read by its JSON box."""
    from ..questionnaire.editing import EditRefused

    mode = form.logic_mode.data if form.logic_mode.raw_data else ("json" if (form.display_condition.data or "").strip()
                                                                    else "always")
    if mode == "rules":
        rules = [Rule(r.question.data or "", r.test.data or "",
                      [int(v) for v in (r.values.data or []) if str(v).lstrip("-").isdigit()], r.number.data or "")
                 for r in form.rules]
        try:
            return condition_from_rules(form.logic_join.data, rules, logic_questions(survey, form.code.data.strip()))
        except BuilderError as error:
            raise EditRefused(f"display logic: {error}") from None
    if mode == "json":
        return condition_from_text(form.display_condition.data)
    return None


def item_from_form(form: QuestionForm, existing_options: list[tuple[int, str]] = (), survey=None) -> dict:
    """The question the editor describes, in the definition format (EditRefused if a field is unusable)."""
    qtype = form.type.data
    item = {"code": form.code.data.strip(), "type": qtype, "text": form.text.data.strip(),
            "help_text": (form.help_text.data or "").strip(), "required": bool(form.required.data)}
    if form.construct.data:
        item["construct"] = form.construct.data
    if form.reverse_coded.data:
        item["reverse_coded"] = True
    item.update(question_type(qtype).item_settings(form, existing_options))
    condition = condition_from_form(form, survey) if survey is not None else condition_from_text(
        form.display_condition.data)
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
        raise EditRefused(
            f"display condition: this is not a condition the survey can read ({error}). Write it like "
            '{"question": "contact_12m", "in": [1]} (shown when the question contact_12m is answered 1), '
            "or leave the box empty to show the question always.") from None


def fill_question_form(form: QuestionForm, question) -> None:
    """Put a stored question into the editor."""
    import json

    form.code.data, form.type.data, form.text.data = question.code, question.type, question.text
    form.help_text.data, form.required.data = question.help_text, question.required
    form.construct.data, form.reverse_coded.data = question.construct or "", question.reverse_coded
    question_type(question.type).fill_settings(form, question)
    form.display_condition.data = json.dumps(question.display_condition) if question.display_condition else ""
    built = rules_from_condition(question.display_condition)
    if built is None:  # more than rules can say: kept as JSON
        form.logic_mode.data = "json"
    else:
        join, rules = built
        form.logic_mode.data = "rules" if rules else "always"
        form.logic_join.data = join
        for entry, rule in zip(form.rules, rules):
            entry.question.data, entry.test.data = rule.question, rule.test
            entry.values.data, entry.number.data = [str(v) for v in rule.values], rule.number
    form.page_id.data = question.page_id


class InvitationForm(FlaskForm):
    count = IntegerField("How many codes", validators=[
        InputRequired("Enter how many codes to make."),
        NumberRange(min=1, max=20_000, message="Make between 1 and 20,000 codes at a time.")])


class ResponseImportForm(FlaskForm):
    file = FileField("Responses (CSV, UTF-8)", validators=[
        FileRequired("Choose a CSV file."), FileAllowed(["csv", "txt"], "Choose a .csv file.")])
