"""The fixture's pipelines."""

from __future__ import annotations

from kedro.pipeline import Pipeline, node, pipeline

from dwfixture import nodes


def data_processing() -> Pipeline:
    return pipeline(
        [
            node(
                nodes.clean_companies,
                ["companies", "params:min_staff"],
                "companies_clean@pandas",
                name="clean_companies",
            ),
            node(nodes.revenue_table, "companies_clean@frame", "revenue_table", name="revenue"),
            node(nodes.revenue_chunks, "companies_clean@frame", "revenue_chunks", name="chunks"),
        ],
        tags="prep",
    )


def modelling() -> Pipeline:
    return pipeline(
        [
            node(
                nodes.fit_model,
                {"table": "revenue_table", "scale": "params:model.scale"},
                "model",
                name="fit_model",
            ),
            node(nodes.evaluate, ["model", "revenue_chunks"], "metrics", name="evaluate"),
        ],
        tags="model",
    )


def regions() -> Pipeline:
    template = pipeline(
        [
            node(
                nodes.region_summary,
                ["companies_clean@frame", "params:region", "params:factor"],
                "summary",
                name="summary",
            ),
            node(nodes.region_report, "summary", "report", name="report"),
        ],
        tags="regions",
    )
    return sum(
        (
            pipeline(template, namespace=region, inputs={"companies_clean@frame"})
            for region in ("north", "south")
        ),
        start=Pipeline([]),
    )


def lambdas() -> Pipeline:
    # Unnamed, and a lambda: Kedro's own ParallelRunner cannot send it to a process.
    return pipeline([node(lambda frame: {"count": len(frame)}, "companies", "company_count")])


def failing() -> Pipeline:
    return (
        data_processing()
        + modelling()
        + pipeline(
            [
                node(
                    nodes.flaky_check,
                    ["metrics", "params:fail_marker"],
                    "checked",
                    name="flaky_check",
                ),
                node(lambda checked: checked, "checked", "company_count", name="after_check"),
            ]
        )
    )


def blocking() -> Pipeline:
    return lambdas() + pipeline(
        [
            node(
                nodes.block_until_released,
                ["company_count", "params:started_file", "params:release_file"],
                "slow_output",
                name="block",
            )
        ]
    )


def register_pipelines() -> dict[str, Pipeline]:
    default = data_processing() + modelling() + regions() + lambdas()
    return {
        "__default__": default,
        "data_processing": data_processing(),
        "modelling": modelling(),
        "regions": regions(),
        "failing": failing(),
        "blocking": blocking(),
    }
