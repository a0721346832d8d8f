"""Survey analysis: pandas, numpy and matplotlib only.

Nothing in this package imports Flask or the ORM models, so it runs the same
in a web request, a CLI command, a benchmark or a notebook. It reads the
database through a plain SQLAlchemy connection.
"""
