"""Summaries a person reads: prices per engine type, the best-rated companies, the headline."""

from __future__ import annotations

from typing import Any

import pandas as pd


def price_by_engine(table: pd.DataFrame) -> pd.DataFrame:
    """Mean, median and count of prices per engine type, dearest first."""
    grouped = table.groupby("engine_type")["price"].agg(["mean", "median", "count"])
    return grouped.sort_values("mean", ascending=False).round(1).reset_index()


def rank_companies(table: pd.DataFrame, options: dict[str, Any]) -> pd.DataFrame:
    """The companies with the best mean review rating (at least five shuttles reviewed)."""
    per_company = table.groupby(["company_id", "company_location"]).agg(
        shuttles=("price", "size"),
        mean_rating=("review_scores_rating", "mean"),
        mean_price=("price", "mean"),
    )
    ranked = per_company[per_company["shuttles"] >= 5].sort_values("mean_rating", ascending=False)
    return ranked.head(int(options["top_companies"])).round(1).reset_index()


def write_summary(metrics: dict[str, float], engines: pd.DataFrame, companies: pd.DataFrame) -> str:
    """The headline numbers, as text."""
    dearest = engines.iloc[0]
    best = companies.iloc[0]
    return "\n".join(
        [
            f"Price model: R^2 {metrics['r2']:.3f}, mean absolute error ${metrics['mae']:,.0f} "
            f"on {metrics['test_shuttles']:.0f} held-out shuttles.",
            f"Dearest engine type: {dearest['engine_type']} (mean ${dearest['mean']:,.0f}).",
            f"Best-rated company: #{best['company_id']} in {best['company_location']} "
            f"(mean rating {best['mean_rating']:.1f}).",
        ]
    )
