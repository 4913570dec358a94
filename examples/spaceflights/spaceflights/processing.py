"""Clean the raw exports and join them into one table, a shuttle per row."""

from __future__ import annotations

import pandas as pd


def _is_true(column: pd.Series) -> pd.Series:
    return column == "t"


def preprocess_companies(companies: pd.DataFrame) -> pd.DataFrame:
    """Ratings as fractions, the IATA flag as a boolean."""
    cleaned = companies.copy()
    cleaned["company_rating"] = cleaned["company_rating"].str.rstrip("%").astype(float) / 100
    cleaned["iata_approved"] = _is_true(cleaned["iata_approved"])
    return cleaned


def preprocess_shuttles(shuttles: pd.DataFrame) -> pd.DataFrame:
    """Prices as numbers, the check flags as booleans."""
    cleaned = shuttles.copy()
    for flag in ("d_check_complete", "moon_clearance_complete"):
        cleaned[flag] = _is_true(cleaned[flag])
    cleaned["price"] = cleaned["price"].str.replace(r"[$,]", "", regex=True).astype(float)
    return cleaned


def preprocess_reviews(reviews: pd.DataFrame) -> pd.DataFrame:
    """Only the shuttles that have a rating."""
    return reviews.dropna(subset=["review_scores_rating"]).reset_index(drop=True)


def create_model_input_table(
    shuttles: pd.DataFrame, companies: pd.DataFrame, reviews: pd.DataFrame
) -> pd.DataFrame:
    """Shuttles with their company's and their reviews' columns."""
    table = shuttles.merge(reviews, left_on="id", right_on="shuttle_id")
    table = table.merge(companies, left_on="company_id", right_on="id", suffixes=("", "_company"))
    return table.drop(columns=["shuttle_id", "id_company"]).reset_index(drop=True)
