"""The spaceflights pipelines: ``ductwork run --pipeline NAME`` picks one; the default is all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ductwork.pipeline import Node, Pipeline, pipeline
from ductwork.pipeline import node as make_node
from spaceflights import generate, processing, reporting, science


def node(func: Callable[..., Any], inputs: str | list[str], outputs: str | list[str]) -> Node:
    """A node named after its function."""
    return make_node(func, inputs, outputs, name=func.__name__)


def data_generation() -> Pipeline:
    """Raw companies, shuttles and reviews, generated from a seed."""
    options = "params:data_generation"
    return pipeline(
        [
            node(generate.generate_companies, options, "companies"),
            node(generate.generate_shuttles, ["companies", options], "shuttles"),
            node(generate.generate_reviews, ["shuttles", options], "reviews"),
        ],
        tags="data_generation",
    )


def data_processing() -> Pipeline:
    """Clean the raw data and join it into the model input table."""
    return pipeline(
        [
            node(processing.preprocess_companies, "companies", "preprocessed_companies"),
            node(processing.preprocess_shuttles, "shuttles", "preprocessed_shuttles"),
            node(processing.preprocess_reviews, "reviews", "preprocessed_reviews"),
            node(
                processing.create_model_input_table,
                ["preprocessed_shuttles", "preprocessed_companies", "preprocessed_reviews"],
                "model_input_table",
            ),
        ],
        tags="data_processing",
    )


def data_science() -> Pipeline:
    """Split, train and evaluate the price model."""
    return pipeline(
        [
            node(
                science.split_data,
                ["model_input_table", "params:model_options"],
                ["x_train", "x_test", "y_train", "y_test"],
            ),
            node(
                science.train_model,
                ["x_train", "y_train", "params:model_options.ridge_penalty"],
                "regressor",
            ),
            node(science.evaluate_model, ["regressor", "x_test", "y_test"], "metrics"),
        ],
        tags="data_science",
    )


def report() -> Pipeline:
    """What a person reads: price per engine type, top companies, the summary."""
    return pipeline(
        [
            node(reporting.price_by_engine, "model_input_table", "price_by_engine"),
            node(
                reporting.rank_companies,
                ["model_input_table", "params:reporting"],
                "top_companies",
            ),
            node(
                reporting.write_summary,
                ["metrics", "price_by_engine", "top_companies"],
                "summary",
            ),
        ],
        tags="reporting",
    )


def create_pipelines() -> dict[str, Pipeline]:
    """Every pipeline by name; ``__default__`` runs them all."""
    parts = {
        "data_generation": data_generation(),
        "data_processing": data_processing(),
        "data_science": data_science(),
        "reporting": report(),
    }
    return {**parts, "__default__": sum(parts.values(), Pipeline([]))}
