"""The fixture's node functions: small, deterministic, with every kind of node Kedro has."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd


def clean_companies(companies: pd.DataFrame, min_staff: int) -> pd.DataFrame:
    kept = companies[companies["staff"] >= min_staff]
    return kept.sort_values("name").reset_index(drop=True)


def revenue_table(companies: pd.DataFrame) -> pd.DataFrame:
    table = companies.groupby("region", as_index=False)["revenue"].sum()
    return table.sort_values("region").reset_index(drop=True)


def revenue_chunks(companies: pd.DataFrame) -> Iterator[pd.DataFrame]:
    """A generator node: each chunk is saved as it comes (appended to one CSV file)."""
    for start in range(0, len(companies), 8):
        yield companies.iloc[start : start + 8][["name", "revenue"]]


def fit_model(table: pd.DataFrame, scale: float) -> dict[str, float]:
    return {row.region: float(row.revenue) * scale for row in table.itertuples()}


def evaluate(model: dict[str, float], chunks: pd.DataFrame) -> dict[str, Any]:
    return {"regions": sorted(model), "total": sum(model.values()), "chunk_rows": len(chunks)}


def region_summary(companies: pd.DataFrame, region: str, factor: float) -> pd.DataFrame:
    rows = companies[companies["region"] == region].copy()
    rows["weighted"] = rows["revenue"] * factor
    return rows[["name", "weighted"]].reset_index(drop=True)


def region_report(summary: pd.DataFrame) -> pd.DataFrame:
    return summary.sort_values("weighted", ascending=False).head(5).reset_index(drop=True)


def flaky_check(metrics: dict[str, Any], fail_marker: str) -> dict[str, Any]:
    """Fails while the marker file exists: the failing-run tests create it, then remove it."""
    if Path(fail_marker).exists():
        raise RuntimeError(f"flaky_check fails while {fail_marker} exists")
    return {"checked": metrics["total"]}


def block_until_released(count: Any, started_file: str, release_file: str) -> dict[str, int]:
    """Says it started (a file), then waits for the release file (the Ctrl-C tests never make
    it). The pid in the file lets the test find the worker process."""
    Path(started_file).write_text(str(os.getpid()), encoding="utf-8")
    while not Path(release_file).exists():
        time.sleep(0.05)
    return {"released": 1}
