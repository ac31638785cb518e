"""The REST channel's request checks (the HTTP path itself is covered in tests/faults)."""

from __future__ import annotations

import json

import pytest

from admissions.understanding import sanitize as clean_text
from rasa_addons.channels import BadRequest, GuardedRestInput, parse_body


def test_valid_body() -> None:
    assert parse_body(b'{"sender": "abc", "message": "hi"}') == ("abc", "hi")
    assert parse_body(b'{"sender": 12, "message": ""}') == ("12", "")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'"x"',
        b'{"message": "hi"}',
        b'{"sender": "", "message": "hi"}',
        b'{"sender": "a\\u0000b", "message": "hi"}',
        b'{"sender": "a", "message": null}',
        b'{"sender": "a", "message": ["hi"]}',
        b'{"sender": true, "message": "hi"}',
        json.dumps({"sender": "x" * 256, "message": "hi"}).encode(),
        b'{"sender": "a", "message": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"sender": "a", "message": "\xff\xfe"}',
    ],
)
def test_bad_bodies_are_refused(body: bytes) -> None:
    with pytest.raises(BadRequest):
        parse_body(body)


def test_clean_text_removes_controls_and_lone_surrogates() -> None:
    assert clean_text("a\x00b\x07c\x7fd\u0085e") == "abcde"
    assert clean_text("keep\ttabs\nand lines") == "keep\ttabs\nand lines"
    assert clean_text("x\ud800y") == "x\ufffdy"
    assert clean_text("e\u0301") == "\u00e9"


def test_limits_come_from_credentials() -> None:
    channel = GuardedRestInput.from_credentials({"max_message_chars": 10, "max_body_bytes": 99})
    assert isinstance(channel, GuardedRestInput)
    assert (channel.max_message_chars, channel.max_body_bytes) == (10, 99)
    assert GuardedRestInput.name() == "rest"
    default = GuardedRestInput.from_credentials(None)
    assert isinstance(default, GuardedRestInput)
    assert (default.max_message_chars, default.max_body_bytes) == (2000, 16384)
