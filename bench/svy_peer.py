"""The peer's whole job, as one process (bench/versus_svy.py times it): svy, as pinned in
requirements.txt, reads the respondents from CSV, rakes them to the population margins and
estimates every scale item's mean and percent agreeing, overall and by district, with
Taylor-linearised SEs: what R's ``survey`` (rake, svymean, svyby) was checked against.

    .venv/bin/python bench/svy_peer.py DATA.csv CONTROLS.json
"""
from __future__ import annotations

import json
import sys
import time

started = time.perf_counter()

import polars as pl  # noqa: E402
import svy  # noqa: E402


def main(data_path: str, controls_path: str) -> None:
    spec = json.loads(open(controls_path, encoding="utf-8").read())
    controls = {variable: {int(code): total for code, total in targets.items()}
                for variable, targets in spec["controls"].items()}
    items = spec["items"]
    data = pl.read_csv(data_path)
    # Items: 1-5 with 0 for "not answered or don't know"; the indicator of the top two boxes.
    data = data.with_columns([pl.when(pl.col(i) > 0).then(pl.col(i)).otherwise(None).alias(i) for i in items]
                             + [pl.when(pl.col(i) > 0).then((pl.col(i) >= 4).cast(pl.Float64)).otherwise(None)
                                .alias(f"{i}_agree") for i in items]
                             + [pl.lit(1.0).alias("_w")])
    sample = svy.Sample(data, svy.Design(wgt="_w"))
    raked = sample.weighting.rake(controls=controls, tol=1e-10, max_iter=1000)
    figures = 0
    for item in items:
        for column in (item, f"{item}_agree"):
            figures += raked.estimation.mean(column, drop_nulls=True).to_polars().height
            figures += raked.estimation.mean(column, by="district", drop_nulls=True).to_polars().height
    print(json.dumps({"figures": figures, "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main(*sys.argv[1:3])
