"""The spaceflights pipeline as a Hamilton module, timed with and without Hamilton's cache.

Not part of ductwork: ``bench_incremental.py --hamilton-python PYTHON`` runs this file with an
interpreter that has ``sf-hamilton`` (a scratch venv), passing the parameters as JSON. It prints
one JSON line: seconds for a run without cache, a first run with an empty cache (every node
misses), and a re-run with nothing changed (best of rounds each).

    python hamilton_spaceflights.py EXAMPLE_DIR PARAMS_JSON ROUNDS
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

MODULE = """
import pandas as pd

from spaceflights import generate, processing, reporting, science


def companies(data_generation: dict) -> pd.DataFrame:
    return generate.generate_companies(data_generation)


def shuttles(companies: pd.DataFrame, data_generation: dict) -> pd.DataFrame:
    return generate.generate_shuttles(companies, data_generation)


def reviews(shuttles: pd.DataFrame, data_generation: dict) -> pd.DataFrame:
    return generate.generate_reviews(shuttles, data_generation)


def preprocessed_companies(companies: pd.DataFrame) -> pd.DataFrame:
    return processing.preprocess_companies(companies)


def preprocessed_shuttles(shuttles: pd.DataFrame) -> pd.DataFrame:
    return processing.preprocess_shuttles(shuttles)


def preprocessed_reviews(reviews: pd.DataFrame) -> pd.DataFrame:
    return processing.preprocess_reviews(reviews)


def model_input_table(
    preprocessed_shuttles: pd.DataFrame,
    preprocessed_companies: pd.DataFrame,
    preprocessed_reviews: pd.DataFrame,
) -> pd.DataFrame:
    return processing.create_model_input_table(
        preprocessed_shuttles, preprocessed_companies, preprocessed_reviews
    )


def split(model_input_table: pd.DataFrame, model_options: dict) -> tuple:
    return science.split_data(model_input_table, model_options)


def regressor(split: tuple, ridge_penalty: float) -> science.Model:
    return science.train_model(split[0], split[2], ridge_penalty)


def metrics(regressor: science.Model, split: tuple) -> dict:
    return science.evaluate_model(regressor, split[1], split[3])


def engines(model_input_table: pd.DataFrame) -> pd.DataFrame:
    return reporting.price_by_engine(model_input_table)


def top_companies(model_input_table: pd.DataFrame, reporting_options: dict) -> pd.DataFrame:
    return reporting.rank_companies(model_input_table, reporting_options)


def summary(metrics: dict, engines: pd.DataFrame, top_companies: pd.DataFrame) -> str:
    return reporting.write_summary(metrics, engines, top_companies)
"""


def best(rounds: int, action: Any) -> float:
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        action()
        times.append(time.perf_counter() - began)
    return min(times)


def main() -> None:
    example, params_json, rounds = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    params = json.loads(params_json)
    inputs = {
        "data_generation": params["data_generation"],
        "model_options": params["model_options"],
        "ridge_penalty": params["model_options"]["ridge_penalty"],
        "reporting_options": params["reporting"],
    }
    folder = Path(tempfile.mkdtemp())
    (folder / "hamilton_sf.py").write_text(textwrap.dedent(MODULE))
    sys.path[:0] = [str(folder), str(example)]
    import hamilton_sf
    from hamilton import driver

    plain = driver.Builder().with_modules(hamilton_sf).build()
    no_cache = best(rounds, lambda: plain.execute(["summary"], inputs=inputs))

    def cold() -> None:
        shutil.rmtree(folder / "cache", ignore_errors=True)
        cached = driver.Builder().with_modules(hamilton_sf).with_cache(path=str(folder / "cache"))
        cached.build().execute(["summary"], inputs=inputs)

    first = best(rounds, cold)
    warm = driver.Builder().with_modules(hamilton_sf).with_cache(path=str(folder / "cache"))
    built = warm.build()
    built.execute(["summary"], inputs=inputs)
    again = best(rounds, lambda: built.execute(["summary"], inputs=inputs))

    def rebuilt() -> None:  # a new process would build the driver again
        cached = driver.Builder().with_modules(hamilton_sf).with_cache(path=str(folder / "cache"))
        cached.build().execute(["summary"], inputs=inputs)

    again_built = best(rounds, rebuilt)
    print(
        json.dumps(
            {"no_cache": no_cache, "first": first, "again": again, "again_built": again_built}
        )
    )
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
