"""Flask-WTF forms: the resident form built from a questionnaire (staff forms come later)."""
