"""A small, real pipeline: weather-station readings in, a per-city report out.

Synthetic readings (with sensor glitches) are generated from a seed, cleaned, summarised and
turned into a report, by ``SequentialRunner`` over an in-memory catalog.

Run it with ``make demo``.
"""

from __future__ import annotations

import random
import statistics

from ductwork.io import DataCatalog
from ductwork.pipeline import Pipeline, node, pipeline
from ductwork.runner import SequentialRunner

Reading = tuple[str, int, float]  # (city, day, temperature in degrees C)

CITIES = {"Lisbon": 17.0, "Oslo": 6.0, "Nairobi": 19.5, "Montreal": 7.5}
GLITCH = -999.0  # what a faulty sensor reports


def make_readings(seed: int, days: int) -> list[Reading]:
    """Daily temperatures per city: a seasonal wave, noise, a warming drift, some glitches."""
    rng = random.Random(seed)
    readings = []
    for city, mean in CITIES.items():
        for day in range(days):
            seasonal = 6.0 * (1 - abs(day - days / 2) / (days / 2))
            value = mean + seasonal + 0.01 * day + rng.gauss(0, 1.5)
            readings.append((city, day, GLITCH if rng.random() < 0.03 else round(value, 1)))
    return readings


def drop_glitches(readings: list[Reading]) -> tuple[list[Reading], int]:
    """Remove readings no real thermometer would give; count them."""
    clean = [r for r in readings if -60.0 < r[2] < 60.0]
    return clean, len(readings) - len(clean)


def summarise(readings: list[Reading]) -> dict[str, dict[str, float]]:
    """Mean, spread and extremes per city."""
    by_city: dict[str, list[float]] = {}
    for city, _, value in readings:
        by_city.setdefault(city, []).append(value)
    return {
        city: {
            "mean": statistics.fmean(values),
            "stdev": statistics.stdev(values),
            "min": min(values),
            "max": max(values),
        }
        for city, values in by_city.items()
    }


def warming_trend(readings: list[Reading]) -> dict[str, float]:
    """Least-squares slope of temperature against day, in degrees per 100 days."""
    series: dict[str, tuple[list[int], list[float]]] = {}
    for city, day, value in readings:
        days, values = series.setdefault(city, ([], []))
        days.append(day)
        values.append(value)
    return {
        city: 100 * statistics.linear_regression(days, values).slope
        for city, (days, values) in series.items()
    }


def write_report(
    summary: dict[str, dict[str, float]], trend: dict[str, float], glitches: int
) -> str:
    """A table per city, warmest first, and the headline."""
    lines = [f"{'city':<10}{'mean':>7}{'stdev':>7}{'min':>7}{'max':>7}{'trend/100d':>12}"]
    for city, stats in sorted(summary.items(), key=lambda item: -item[1]["mean"]):
        lines.append(
            f"{city:<10}{stats['mean']:>7.1f}{stats['stdev']:>7.1f}{stats['min']:>7.1f}"
            f"{stats['max']:>7.1f}{trend[city]:>+12.2f}"
        )
    warmest = max(summary, key=lambda city: summary[city]["mean"])
    lines.append(f"Warmest city: {warmest}. Sensor glitches removed: {glitches}.")
    return "\n".join(lines)


def create_pipeline() -> Pipeline:
    """The weather pipeline; its only free inputs are two parameters."""
    return pipeline(
        [
            node(make_readings, ["params:seed", "params:days"], "raw_readings", name="generate"),
            node(drop_glitches, "raw_readings", ["readings", "glitch_count"], name="clean"),
            node(summarise, "readings", "city_summary", name="summarise"),
            node(warming_trend, "readings", "city_trend", name="trend"),
            node(
                write_report,
                {"summary": "city_summary", "trend": "city_trend", "glitches": "glitch_count"},
                "report",
                name="report",
            ),
        ],
        tags="weather",
    )


def main() -> None:
    """Describe the pipeline, run it and print its report."""
    weather = create_pipeline()
    print(weather.describe())
    catalog = DataCatalog()
    catalog["params:seed"] = 2024
    catalog["params:days"] = 365
    outputs = SequentialRunner().run(weather, catalog)
    print()
    print(outputs["report"].load())


if __name__ == "__main__":
    main()
