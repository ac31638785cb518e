"""Settings from the environment: defaults, and clear refusals of malformed values."""

from __future__ import annotations

from pathlib import Path

import pytest

from admissions import settings_env


def test_blank_or_unset_means_the_default() -> None:
    env = {"A": "  "}
    assert settings_env.number(env, "A", 1.5) == 1.5
    assert settings_env.whole(env, "B", 7) == 7
    assert settings_env.flag(env, "A", True) is True
    assert settings_env.path(env, "A", Path("/x"), Path("/root")) == Path("/x")


def test_values_are_read() -> None:
    env = {"N": " 2.5 ", "W": "12", "F": "Yes", "G": "off", "P": "var/x", "Q": "/abs"}
    assert settings_env.number(env, "N", 0, 0, 10) == 2.5
    assert settings_env.seconds(env, "N", 0) == 2.5
    assert settings_env.whole(env, "W", 0, 1) == 12
    assert settings_env.flag(env, "F") is True
    assert settings_env.flag(env, "G", True) is False
    assert settings_env.path(env, "P", Path("/d"), Path("/root")) == Path("/root/var/x")
    assert settings_env.path(env, "Q", Path("/d"), Path("/root")) == Path("/abs")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda e: settings_env.number(e, "V", 1), "V must be a number, got 'ten'"),
        (lambda e: settings_env.seconds(e, "V", 1), "V must be a number of seconds, got 'ten'"),
        (lambda e: settings_env.whole(e, "V", 1), "V must be a whole number, got 'ten'"),
    ],
)
def test_malformed_values_name_the_variable(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call({"V": "ten"})  # type: ignore[operator]


def test_out_of_range_values_say_the_range() -> None:
    with pytest.raises(ValueError, match="V must be between 0 and 1, got 2"):
        settings_env.number({"V": "2"}, "V", 0.5, 0, 1)
    with pytest.raises(ValueError, match=r"V must be at least 0\.1, got 0\.05"):
        settings_env.seconds({"V": "0.05"}, "V", 1, 0.1)
    with pytest.raises(ValueError, match="V must be at least 1, got 0"):
        settings_env.whole({"V": "0"}, "V", 5, 1)
    with pytest.raises(ValueError, match="V must be a number, got nan"):
        settings_env.seconds({"V": "nan"}, "V", 1)
