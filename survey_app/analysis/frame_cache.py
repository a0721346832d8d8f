"""A closed wave's analysis frame, kept as Parquet, so that analysing it again (another weighting,
a republication) reads one file instead of every answer from the database.

At a million respondents loading the answers takes seconds (every question's answers, and whose
they are); the Parquet copy reads in a fraction of that (bench/versus_svy.py). Only a *closed*
survey's frame is kept: an open one changes with every submission.

The copy is used only while it is certainly what loading would give:

* the questionnaire is unchanged: ``survey.revision``, which database triggers move on every
  insert, update or delete of the survey's pages, questions and options, whatever made it;
* its responses are unchanged: their number and two sums over their random 63-bit ids (a
  response added or removed changes them; answers of a stored response are never edited);
* the file was written by this code for this survey (``FORMAT``, the survey's id).

Removing a response also deletes the copy at once (``forget``): what a removal takes out must not
stay behind in a file until the next analysis. The copy holds what the database holds (coded
answers and numbers by random response id; never free text, never a time) and sits in
GENERATED_DIR, which only the app and its staff read.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from .frame import Codebook, SurveyData, load_survey_data

FORMAT = 1
FOLDER = ".frames"  # in GENERATED_DIR


def _path(generated_dir, slug: str) -> Path:
    return Path(generated_dir) / FOLDER / f"{slug}.parquet"


def _key(connection: Connection, codebook: Codebook) -> dict | None:
    """What the copy must have been made from; None when the survey is not closed."""
    status, revision = connection.execute(text("SELECT status, revision FROM survey WHERE id = :id"),
                                          {"id": codebook.survey_id}).one()
    if status != "closed":
        return None
    count, low, high = connection.execute(text(
        "SELECT COUNT(*), SUM(id % 1000000007), SUM(id % 998244353) FROM response WHERE survey_id = :id"),
        {"id": codebook.survey_id}).one()
    return {"format": FORMAT, "survey_id": codebook.survey_id, "revision": int(revision), "responses": int(count),
            "ids": [int(low or 0), int(high or 0)]}


def load(connection: Connection, codebook: Codebook, generated_dir) -> SurveyData:
    """The survey's frame: from its copy if that is current, else from the database (and, for a
    closed survey, kept for next time)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    key = _key(connection, codebook)
    path = _path(generated_dir, codebook.slug)
    if key is not None and path.exists():
        try:
            table = pq.read_table(path)
            stored = json.loads(table.schema.metadata[b"survey_app"])
        except (OSError, KeyError, ValueError):
            stored = None
        if stored is not None and stored["key"] == key:
            # Column by column, each Arrow buffer freed as soon as it is converted, and Arrow's
            # pool handed back what it kept: at ten million respondents the copy otherwise
            # stays beside the frame (1.56 GB resident against 0.56 GB for the frame).
            frame = table.to_pandas(split_blocks=True, self_destruct=True)
            del table
            pa.default_memory_pool().release_unused()
            for column, (categories, ordered) in stored["categorical"].items():
                frame[column] = pd.Categorical.from_codes(frame[column].to_numpy(), categories, ordered=ordered)
            return SurveyData(codebook=codebook, frame=frame, text_counts=stored["text_counts"],
                              left_out=stored["left_out"])
    data = load_survey_data(connection, codebook)
    if key is not None:
        _write(path, data, key)
    return data


def _write(path: Path, data: SurveyData, key: dict) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    # Categorical columns go as their small integer codes, with their categories beside them:
    # Parquet keeps no dictionary of integers, and the codes are what the frame holds anyway.
    frame, categorical = data.frame.copy(deep=False), {}
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            values = frame[column].cat
            categorical[column] = ([int(c) for c in values.categories], bool(values.ordered))
            frame[column] = values.codes
    table = pa.Table.from_pandas(frame, preserve_index=True)
    metadata = {**(table.schema.metadata or {}), b"survey_app": json.dumps(
        {"key": key, "text_counts": data.text_counts, "left_out": data.left_out, "categorical": categorical}).encode()}
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".frame-", dir=path.parent)
    os.close(handle)
    try:
        pq.write_table(table.replace_schema_metadata(metadata), temporary, compression="zstd")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def forget(generated_dir, slug: str) -> None:
    """Delete the survey's copy (a response was removed)."""
    _path(generated_dir, slug).unlink(missing_ok=True)
