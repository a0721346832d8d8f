# Copy to instance/config.py and edit. Values here override the defaults in
# survey_app/config.py; environment variables (SECRET_KEY, DATABASE_URL, ...)
# override both.

# A long random string (32+ characters); generate one with:
#   python -c "import secrets; print(secrets.token_hex(32))"
# Without one, a development site generates its own into instance/secret_key on first run;
# production refuses to start (every server of a site needs the same key).
# SECRET_KEY = "..."

# PostgreSQL in production (psycopg 3 is installed):
# SQLALCHEMY_DATABASE_URI = "postgresql://survey:password@127.0.0.1:5432/survey"

# "production" (any case) refuses to start without a real SECRET_KEY; an unknown value is refused.
# SURVEY_ENV = "production"

# Where analysis output (tables, charts) is written; defaults to instance/generated.
# GENERATED_DIR = "/var/lib/survey_app/generated"
