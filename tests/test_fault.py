"""Crash safety: gunicorn is SIGKILLed in the middle of a load of residents submitting, then
restarted; the database is intact and every acknowledged submission is stored exactly once.
Runs against the suite's database server (SQLite file, or PostgreSQL with TEST_DATABASE_URL)."""
import os
import sys
from pathlib import Path

import pytest

from survey_app.scratch import scratch_database

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

GUNICORN = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "gunicorn"


@pytest.mark.skipif(not GUNICORN.exists(), reason="gunicorn is installed by make test")
def test_sigkill_mid_load_loses_no_acknowledged_submission(tmp_path):
    from load import run_load

    with scratch_database(os.environ.get("TEST_DATABASE_URL"), tmp_path, prefix="survey_fault") as url:
        figures = run_load(url, str(tmp_path), seconds=8, residents=12, workers=2, kill_at=3)
    assert figures["killed"]
    assert figures["submissions"] > 20  # submissions went through before and after the crash
    assert figures["missing"] == 0, figures  # every acknowledged submission is stored ...
    assert figures["duplicated"] == 0, figures  # ... exactly once
    # Submissions the crash cut off were not acknowledged; each is stored whole or not at all.
    assert figures["partial"] == 0 and figures["integrity"] == "ok", figures
