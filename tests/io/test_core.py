"""The dataset contract: wrapped load/save, exists/release, repr, init args, from_config."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from ductwork.exceptions import DatasetConfigError
from ductwork.io import AbstractDataset, DatasetError, MemoryDataset
from ductwork.io.core import is_parameter, parse_dataset_definition
from tests.io.conftest import RecordingDataset


class LegacyDataset(AbstractDataset[Any, Any]):
    """Written the old way: _load/_save instead of load/save."""

    def __init__(self) -> None:
        self.data: Any = None

    def _load(self) -> Any:
        if self.data is None:
            raise KeyError("nothing here")
        return self.data

    def _save(self, data: Any) -> None:
        self.data = data

    def _describe(self) -> dict[str, Any]:
        return {}


class SecretiveDataset(AbstractDataset[Any, Any]):
    """Fails with a message that echoes its credentials, as some drivers do."""

    def __init__(self, url: str, credentials: dict[str, str]) -> None:
        self.url = url
        self.credentials = credentials

    def load(self) -> Any:
        raise ConnectionError(f"login as {self.credentials['user']}:{self.credentials['pw']}")

    def save(self, data: Any) -> None:
        raise ConnectionError(f"cannot reach {self.url}")

    def _describe(self) -> dict[str, Any]:
        return {"url": self.url, "credentials": self.credentials}


class BadDescribe(AbstractDataset[Any, Any]):
    def load(self) -> Any:
        return 1

    def save(self, data: Any) -> None:
        pass

    def _describe(self) -> dict[str, Any]:
        return ["not", "a", "dict"]  # type: ignore[return-value]


class ExplodingRelease(RecordingDataset):
    def _release(self) -> None:
        raise RuntimeError("cannot release")

    def _exists(self) -> bool:
        raise OSError("disk gone")


def test_load_error_is_wrapped_naming_the_dataset_and_chained() -> None:
    dataset = RecordingDataset(fail_with=ValueError("boom"))
    with pytest.raises(DatasetError) as info:
        dataset.load()
    message = str(info.value)
    assert message.startswith("Failed while loading data from dataset ")
    assert "RecordingDataset" in message
    assert "ValueError: boom" in message
    assert isinstance(info.value.__cause__, ValueError)


def test_save_error_is_wrapped_and_chained() -> None:
    dataset = RecordingDataset(fail_with=OSError("disk full"))
    with pytest.raises(DatasetError, match="Failed while saving data to dataset") as info:
        dataset.save(1)
    assert isinstance(info.value.__cause__, OSError)


def test_dataset_error_passes_through_unwrapped() -> None:
    original = DatasetError("already clear")
    dataset = RecordingDataset(fail_with=original)
    with pytest.raises(DatasetError) as info:
        dataset.load()
    assert info.value is original


def test_saving_none_is_refused_before_the_dataset_is_called() -> None:
    dataset = RecordingDataset()
    with pytest.raises(DatasetError, match=r"^Saving 'None' to a 'Dataset' is not allowed$"):
        dataset.save(None)
    assert dataset.saves == 0


def test_legacy_load_and_save_are_used_and_wrapped() -> None:
    # mypy cannot see that _load/_save stand in for the abstract load/save.
    dataset = LegacyDataset()  # type: ignore[abstract]
    dataset.save({"a": 1})
    assert dataset.load() == {"a": 1}
    with pytest.raises(DatasetError, match="Saving 'None'"):
        dataset.save(None)
    with pytest.raises(DatasetError, match="KeyError"):
        LegacyDataset().load()  # type: ignore[abstract]


def test_wrapping_happens_once_through_inheritance() -> None:
    class Child(RecordingDataset):
        def load(self) -> Any:
            return super().load()

    with pytest.raises(DatasetError) as info:
        Child(fail_with=ValueError("x")).load()
    assert str(info.value).count("Failed while loading") == 1


def test_default_exists_warns_and_says_no(caplog: pytest.LogCaptureFixture) -> None:
    class NoExists(AbstractDataset[Any, Any]):
        def load(self) -> Any:
            return 1

        def save(self, data: Any) -> None:
            pass

        def _describe(self) -> dict[str, Any]:
            return {}

    with caplog.at_level(logging.WARNING):
        assert NoExists().exists() is False
    assert "'exists()' not implemented for 'NoExists'" in caplog.text


def test_exists_uses_an_instance_attribute() -> None:
    dataset = RecordingDataset()
    dataset._exists = lambda: True  # type: ignore[method-assign]
    assert dataset.exists() is True


def test_exists_and_release_failures_are_wrapped() -> None:
    dataset = ExplodingRelease()
    with pytest.raises(DatasetError, match="Failed during exists check"):
        dataset.exists()
    with pytest.raises(DatasetError, match="Failed during release"):
        dataset.release()


def test_release_calls_the_hook() -> None:
    dataset = RecordingDataset()
    dataset.release()
    assert dataset.releases == 1


def test_ephemeral_flags() -> None:
    assert RecordingDataset()._EPHEMERAL is False
    assert MemoryDataset()._EPHEMERAL is True


def test_repr_lists_described_values_and_skips_none() -> None:
    class Described(RecordingDataset):
        def _describe(self) -> dict[str, Any]:
            return {"path": "a/b.csv", "args": {"sep": ";"}, "missing": None}

    text = repr(Described())
    # The class name without the function it is defined in, as Kedro shows it.
    assert text == f"{__name__}.Described(path='a/b.csv', args={{'sep': ';'}})"
    assert str(Described()) == text


def test_repr_with_a_bad_describe_falls_back(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert repr(BadDescribe()) == f"{__name__}.BadDescribe()"
    assert "_describe" in caplog.text


def test_repr_hides_credentials_and_url_secrets() -> None:
    dataset = SecretiveDataset(
        "postgresql://admin:hunter22@db.example.com/x?sslkey=abc#frag",
        {"user": "admin", "pw": "hunter22"},
    )
    text = repr(dataset)
    assert "hunter22" not in text
    assert "sslkey" not in text
    assert "postgresql://<redacted>@db.example.com/x?<redacted>#<redacted>" in text
    assert "credentials='<redacted>'" in text


def test_error_text_never_shows_credentials() -> None:
    dataset = SecretiveDataset(
        "https://u:topsecret@example.com/x", {"user": "bob", "pw": "pa55word"}
    )
    with pytest.raises(DatasetError) as load_info:
        dataset.load()
    with pytest.raises(DatasetError) as save_info:
        dataset.save(1)
    for info in (load_info, save_info):
        assert "pa55word" not in str(info.value)
        assert "topsecret" not in str(info.value)
        # The cause held the secret in its text, so it is not attached to the error.
        assert info.value.__cause__ is None
        assert info.value.__suppress_context__ is True


def test_init_args_are_recorded_for_the_most_derived_class() -> None:
    class Base(AbstractDataset[Any, Any]):
        def __init__(self, a: int, **extra: Any) -> None:
            self.a = a

        def load(self) -> Any:
            return self.a

        def save(self, data: Any) -> None:
            pass

        def _describe(self) -> dict[str, Any]:
            return {"a": self.a}

    class Derived(Base):
        def __init__(self, b: int, version: Any = None) -> None:
            super().__init__(a=b * 2, flag=True)

    assert Base(1, flag=True)._init_args == {"a": 1, "flag": True}
    derived = Derived(3, version=("x", None))
    assert derived._init_args == {"b": 3, "version": ("x", None)}
    assert derived._init_config() == {
        "type": f"{Derived.__module__}.{Derived.__qualname__}",
        "b": 3,
        "versioned": True,
    }


def test_memory_dataset_does_not_keep_its_data_as_an_init_arg() -> None:
    dataset = MemoryDataset(data=[1])
    assert getattr(dataset, "_init_args", None) is None


def test_copy_overrides_attributes_without_touching_the_original() -> None:
    original = RecordingDataset(data=1)
    clone = original._copy(_data=2)
    assert (original.load(), clone.load()) == (1, 2)


def test_from_config_builds_the_dataset() -> None:
    dataset = AbstractDataset.from_config("x", {"type": "MemoryDataset", "copy_mode": "assign"})
    assert isinstance(dataset, MemoryDataset)
    assert dataset._copy_mode == "assign"


def test_parse_dataset_definition_turns_versioned_into_a_version() -> None:
    cls, kwargs = parse_dataset_definition(
        {"type": "pickle.PickleDataset", "filepath": "x.pkl", "versioned": True}, "L", "S"
    )
    assert cls.__name__ == "PickleDataset"
    assert kwargs == {"filepath": "x.pkl", "version": ("L", "S")}


def test_parse_dataset_definition_refuses_bad_versioned_flag() -> None:
    with pytest.raises(DatasetConfigError, match="key 'versioned' must be true or false"):
        parse_dataset_definition({"type": "MemoryDataset", "versioned": "yes"})


@pytest.mark.parametrize(
    ("name", "expected"),
    [("params:x", True), ("parameters", True), ("params", False), ("x", False)],
)
def test_is_parameter(name: str, expected: bool) -> None:
    assert is_parameter(name) is expected


@pytest.mark.parametrize("described", [None, {"ok": 1, 2: "not a string key"}])
def test_a_bad_describe_gives_a_bare_repr_and_a_warning(
    described: Any, caplog: pytest.LogCaptureFixture
) -> None:
    class Undescribed(RecordingDataset):
        def _describe(self) -> Any:
            return described

    with caplog.at_level(logging.WARNING):
        assert repr(Undescribed()) == f"{__name__}.Undescribed()"
    assert f"'{__name__}.Undescribed' is a subclass of AbstractDataset and it must" in (caplog.text)
