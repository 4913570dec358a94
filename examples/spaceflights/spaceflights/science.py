"""Split the table, fit a ridge regression of price with numpy, and evaluate it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

Model = dict[str, Any]


def _features(table: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    numeric = table[columns].astype(float)
    engines = pd.get_dummies(table["engine_type"], prefix="engine", dtype=float)
    return pd.concat([numeric, engines], axis=1)


def split_data(
    table: pd.DataFrame, options: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    """Features and prices, shuffled with a seed and split into training and test sets."""
    features = _features(table, list(options["features"]))
    order = np.random.default_rng(options["random_state"]).permutation(len(table))
    cut = int(len(table) * (1 - float(options["test_size"])))
    train, test = order[:cut], order[cut:]
    prices = table["price"]
    return features.iloc[train], features.iloc[test], prices.iloc[train], prices.iloc[test]


def train_model(x_train: pd.DataFrame, y_train: pd.Series, penalty: float) -> Model:
    """Ridge regression on standardised features (closed form; the intercept is not penalised)."""
    x = x_train.to_numpy(dtype=float)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale
    y = y_train.to_numpy(dtype=float)
    gram = z.T @ z + penalty * np.eye(z.shape[1])
    weights = np.linalg.solve(gram, z.T @ (y - y.mean()))
    return {
        "features": list(x_train.columns),
        "mean": mean.tolist(),
        "scale": scale.tolist(),
        "weights": weights.tolist(),
        "intercept": float(y.mean()),
    }


def predict(model: Model, features: pd.DataFrame) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Prices the model gives ``features``."""
    x = features[model["features"]].to_numpy(dtype=float)
    z = (x - np.array(model["mean"])) / np.array(model["scale"])
    result: np.ndarray[Any, np.dtype[np.float64]] = (
        z @ np.array(model["weights"]) + model["intercept"]
    )
    return result


def evaluate_model(model: Model, x_test: pd.DataFrame, y_test: pd.Series) -> dict[str, float]:
    """R-squared, mean absolute error and root mean squared error on the test set."""
    actual = y_test.to_numpy(dtype=float)
    error = actual - predict(model, x_test)
    total = float(((actual - actual.mean()) ** 2).sum())
    return {
        "r2": round(1 - float((error**2).sum()) / total, 4),
        "mae": round(float(np.abs(error).mean()), 2),
        "rmse": round(float(np.sqrt((error**2).mean())), 2),
        "test_shuttles": len(actual),
    }
