"""Community survey platform on police trust and attitudes.

``create_app`` builds the Flask application. Flask and the extensions are
imported inside it, not at module level, so that ``survey_app.analysis`` (and
anything else that needs no web server) can be imported without Flask.
"""
from __future__ import annotations

import os


def create_app(test_config: dict | None = None):
    from flask import Flask

    from . import cli, errors, jobs, links, security, uploads
    from .config import (
        apply_environment,
        default_config,
        normalise_database_url,
        settle_environment,
        settle_public_base_url,
        settle_secret_key,
    )
    from . import i18n
    from .db_pool import ping_connections_after_idle
    from .extensions import csrf, db, login_manager, migrate
    from .rate_limits import rate_limits
    from .respond import bp as respond_bp
    from .results import bp as results_bp
    from .staff import bp as staff_bp

    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(default_config(app.instance_path))
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        apply_environment(app.config)
    else:
        app.config.from_mapping(test_config)
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    settle_environment(app.config)
    settle_public_base_url(app.config)
    settle_secret_key(app.config, app.instance_path)
    os.makedirs(app.instance_path, exist_ok=True)

    db.init_app(app)
    with app.app_context():
        ping_connections_after_idle(db.engine, app.config["DB_PING_AFTER_IDLE_SECONDS"])
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"),
                     render_as_batch=True)
    uploads.init_app(app)  # before the CSRF check reads any form
    csrf.init_app(app)
    login_manager.init_app(app)
    rate_limits.init_app(app)
    jobs.init_app(app)
    i18n.init_app(app)

    app.register_blueprint(respond_bp)
    app.register_blueprint(results_bp)
    app.register_blueprint(staff_bp)
    errors.init_app(app)
    security.init_app(app)
    links.init_app(app)
    from .forms.option_order import option_order_seed
    from .questionnaire.question_types import question_type, settings_groups
    app.jinja_env.globals.update(question_type=question_type,  # each question's widget
                                 option_order_seed=option_order_seed,  # a resident's order of options
                                 question_settings_groups=settings_groups)  # the staff question form

    @app.before_request
    def forget_per_request_caches():
        # Flask-WTF caches the session's token, Flask-Login the signed-in user and Flask-Babel
        # the chosen language on the app context, which outlives a request when one context
        # spans several (tests, scripts): what is cached there belongs to another request.
        from flask import g
        from flask_babel import refresh

        g.pop("csrf_token", None)
        g.pop("_login_user", None)
        g.pop("allowed_languages", None)
        refresh()

    @app.teardown_request
    def roll_back_a_failed_request(error=None):
        # A request that failed leaves no transaction behind: where one app context spans several
        # requests (tests, scripts) the next one would otherwise meet it (PendingRollbackError).
        # Each served request has a context of its own, whose end removes the session anyway.
        if error is not None:
            db.session.rollback()

    cli.init_app(app)

    return app
