"""Generate the raw data, deterministically from ``params:data_generation``'s seed.

Prices follow a known linear rule plus noise, so the model trained downstream has something true
to find (its R-squared on held-out shuttles is about 0.9).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

COUNTRIES = ("Niue", "Chile", "Iceland", "Kenya", "Japan", "Portugal", "Canada", "Fiji")
ENGINES = {"Quantum": 900.0, "Plasma": 600.0, "Nuclear": 300.0}
VENDORS = ("ThetaBase", "Banks Corp", "Orbital Works", "Hale & Sons")
POLICIES = ("flexible", "moderate", "strict")


def _flags(values: np.ndarray[Any, np.dtype[np.bool_]]) -> list[str]:
    return ["t" if value else "f" for value in values]


def generate_companies(options: dict[str, Any]) -> pd.DataFrame:
    """Companies with a rating (``"87%"``), a country, a fleet size and an IATA flag."""
    rng = np.random.default_rng(options["seed"])
    count = int(options["companies"])
    ratings = rng.integers(40, 101, size=count)
    return pd.DataFrame(
        {
            "id": np.arange(1, count + 1),
            "company_rating": [f"{rating}%" for rating in ratings],
            "company_location": rng.choice(COUNTRIES, size=count),
            "total_fleet_count": rng.integers(1, 40, size=count),
            "iata_approved": _flags(rng.random(count) < 0.6),
        }
    )


def generate_shuttles(companies: pd.DataFrame, options: dict[str, Any]) -> pd.DataFrame:
    """Shuttles of those companies, priced by a linear rule of their features, plus noise."""
    rng = np.random.default_rng(options["seed"] + 1)
    count = int(options["shuttles"])
    company = rng.integers(0, len(companies), size=count)
    rating = companies["company_rating"].str.rstrip("%").astype(float).to_numpy()[company] / 100
    engine = rng.choice(list(ENGINES), size=count)
    engines = rng.integers(1, 5, size=count).astype(float)
    capacity = rng.integers(2, 13, size=count)
    crew = rng.integers(1, 6, size=count).astype(float)
    d_check = rng.random(count) < 0.7
    moon = rng.random(count) < 0.5
    price = (
        1000.0
        + 220.0 * engines
        + 95.0 * capacity
        + 60.0 * crew
        + 150.0 * d_check
        + 80.0 * moon
        + 700.0 * rating
        + np.array([ENGINES[name] for name in engine])
        + rng.normal(0.0, 180.0, size=count)
    )
    return pd.DataFrame(
        {
            "id": np.arange(10_001, 10_001 + count),
            "company_id": companies["id"].to_numpy()[company],
            "shuttle_type": [f"Type V{n}" for n in rng.integers(1, 9, size=count)],
            "engine_type": engine,
            "engine_vendor": rng.choice(VENDORS, size=count),
            "engines": engines,
            "passenger_capacity": capacity,
            "cancellation_policy": rng.choice(POLICIES, size=count),
            "crew": crew,
            "d_check_complete": _flags(d_check),
            "moon_clearance_complete": _flags(moon),
            "price": [f"${value:,.1f}" for value in price],
        }
    )


def generate_reviews(shuttles: pd.DataFrame, options: dict[str, Any]) -> pd.DataFrame:
    """One review summary per shuttle; a few ratings are missing, as in real exports."""
    rng = np.random.default_rng(options["seed"] + 2)
    count = len(shuttles)
    scores = np.clip(rng.normal(85.0, 8.0, size=count), 20.0, 100.0).round()
    missing = rng.random(count) < float(options["missing_review_rate"])
    return pd.DataFrame(
        {
            "shuttle_id": shuttles["id"].to_numpy(),
            "review_scores_rating": np.where(missing, np.nan, scores),
            "number_of_reviews": rng.integers(0, 300, size=count),
            "reviews_per_month": rng.gamma(2.0, 0.8, size=count).round(2),
        }
    )
