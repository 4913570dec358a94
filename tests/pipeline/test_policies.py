"""Retry policies and time limits on nodes."""

from __future__ import annotations

import pickle

import pytest

from ductwork.exceptions import InvalidNodeError
from ductwork.pipeline import Retry, node, pipeline


def double(x: int) -> int:
    return 2 * x


def test_delays_grow_exponentially_up_to_the_cap() -> None:
    policy = Retry(attempts=6, backoff=0.5, factor=3, max_backoff=10, jitter=0)
    assert [policy.delay(n) for n in range(1, 6)] == [0.5, 1.5, 4.5, 10, 10]


def test_jitter_spreads_delays_within_bounds() -> None:
    policy = Retry(backoff=2.0, jitter=0.25)
    assert policy.delay(1, lambda low, high: low) == 1.5
    assert policy.delay(1, lambda low, high: high) == 2.5


def test_retries_only_listed_errors_and_only_while_attempts_remain() -> None:
    policy = Retry(attempts=3, on=(ConnectionError,))
    assert policy.retries(ConnectionResetError(), 1)
    assert policy.retries(ConnectionError(), 2)
    assert not policy.retries(ConnectionError(), 3)
    assert not policy.retries(ValueError(), 1)


def test_single_exception_type_is_accepted() -> None:
    assert Retry(on=KeyError).on == (KeyError,)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"attempts": 0}, ValueError, "attempts"),
        ({"attempts": 2.5}, TypeError, "attempts"),
        ({"backoff": -1}, ValueError, "backoff"),
        ({"factor": 0.5}, ValueError, "factor"),
        ({"jitter": 2}, ValueError, "jitter"),
        ({"on": (int,)}, TypeError, "exception types"),
    ],
)
def test_bad_policies_are_refused(
    kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        Retry(**kwargs)  # type: ignore[arg-type]


def test_node_carries_its_policies_through_copies_namespaces_and_pickling() -> None:
    policy = Retry(attempts=4)
    original = node(double, "x", "y", name="n", retry=policy, timeout=2.5)
    assert original.retry is policy
    assert original.timeout == 2.5
    namespaced = pipeline([original], namespace="ns").nodes[0]
    assert (namespaced.retry, namespaced.timeout) == (policy, 2.5)
    tagged = original.tag("t")
    assert (tagged.retry, tagged.timeout) == (policy, 2.5)
    copy = pickle.loads(pickle.dumps(original))
    assert (copy.retry, copy.timeout) == (policy, 2.5)


@pytest.mark.parametrize("timeout", [0, -1, float("inf"), "10", True])
def test_bad_timeouts_name_the_node(timeout: object) -> None:
    with pytest.raises(InvalidNodeError, match="Node 'n': 'timeout'"):
        node(double, "x", "y", name="n", timeout=timeout)  # type: ignore[arg-type]


def test_retry_must_be_a_policy() -> None:
    with pytest.raises(InvalidNodeError, match="Node 'n': 'retry'"):
        node(double, "x", "y", name="n", retry=3)  # type: ignore[arg-type]
