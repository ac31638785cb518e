"""`make simulate`: scripted visitors talk to the real assistant over REST; task success is scored.

Each visitor (``benchmarks/visitors/*.yml``) says hello, then answers whatever the bot asks: the
topic of the bot's question (who-for, readiness, payment, work, caregiving, free time, the four
screening questions, a read-back confirmation, a near-miss "could you make it work") is detected
from its text, and the visitor's reply for that topic is sent. So a visitor still works when the
bot asks in another order, skips a question it already knows the answer to, or asks a new one.

Visitor format (one file holds ``kind`` and ``visitors``)::

    kind: terse
    visitors:
      - name: terse-aetna-evenings     # unique over all files
        expect: iop                    # the right final recommended_program
        why: 2 yes -> IOP; works 9-5 weekdays, free after 5 -> IOP evening track fits
        opening: [hi]                  # fixed first messages (default: ["hi"])
        answers:                       # topic -> reply; a list is sent as consecutive messages
          who_for: me                  # (e.g. a question before the answer, or an answer and
          payment: aetna               # its correction); "[Yes]" taps the button so titled
          default: ok                  # any question whose topic is unknown
        retry: {payment: blue cross}   # reply when the same question is asked again
        match: [{pattern: "finish school", reply: "at 3"}]  # follow-ups of no known topic
        after_fit: ["actually I'm off Fridays too"]          # sent once a fit is given
        expect_crisis: false           # true: the crisis reply is right for this visitor
        loved_one: false               # asks for someone else (default: kind is loved_one)
        readback: "5–10 PM"            # "Did I get that right?" is a yes only when it says this

Success: the expected ``recommended_program``, no crisis reply unless expected, no goodbye before
the end. Also counted: visitor turns and re-asks ("didn't catch", "Let's make this easier",
"Did you mean", "didn't quite get/understand"). Writes ``results/simulate/summary.{json,md}``.
Exit status 0 whatever the visitors' results; 2 when the servers could not start.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import hmac
import json
import os
import platform
import re
import signal
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
VISITORS_DIR = ROOT / "benchmarks" / "visitors"
MODEL = ROOT / "models" / "admissions.tar.gz"
OUT = ROOT / "results" / "simulate"
BIN = ROOT / ".venv" / "rasa" / "bin"
# Tuesday 2026-12-01, 2 PM in New York: the admissions line is open, replies are deterministic.
CLOCK = "2026-12-01T19:00:00+00:00"
PROGRAMS = ("op", "iop", "php", "residential", "undetermined")
KINDS = (
    "terse",
    "rambling",
    "contradictory",
    "relative_time",
    "clock_time",
    "leave",
    "loved_one",
    "correction",
    "digression",
    "near_miss",
)
MAX_TURNS = 30
GIVE_UP = 4  # a visitor stops after the same question was re-asked this often

# Topics of the bot's questions, checked in this order on each message (text + button titles).
TOPIC_PATTERNS: list[tuple[str, str]] = [
    (
        "near_miss",
        r"could (you|they) (also |still )?(be free|make it|manage|do|stay|get there|leave)"
        r"|make (it|that) work|then it could fit",
    ),
    ("confirm", r"did i get (that|this|it|everything) right|is that right\?|is that correct\?"),
    ("did_you_mean", r"did you mean"),
    ("resume", r"shall we carry on|sure, ask me"),
    ("who_for", r"i want help for myself|who (is|are) (this|you asking) for"),
    ("readiness", r"how ready"),
    ("payment", r"how would (you|they) pay"),
    ("work", r"work or go to school|work or study"),
    ("caregiving", r"depend on (you|them)"),
    (
        "availability",
        r"usually free|free for treatment|when (are|is|could) (you|they) (usually )?free",
    ),
    ("daily_use", r"every day, or nearly|nearly every day"),
    ("withdrawal", r"withdrawal symptoms"),
    ("relapse", r"tried to stop before"),
    ("home", r"hard place to recover"),
    ("callback", r"call (you|them) back\?"),
    ("handoff", r"mention code|reference code"),
]
QUESTION_TOPICS = [t for t, _ in TOPIC_PATTERNS]
ANSWER_TOPICS = (*QUESTION_TOPICS, "default")
SLOT_QUESTIONS = set(QUESTION_TOPICS[QUESTION_TOPICS.index("readiness") :]) - {
    "callback",
    "handoff",
}
STILL_ASKING = {"near_miss", "confirm", "did_you_mean"}  # a fit shown with these is not final
REASK = re.compile(
    r"didn't catch|let's make this easier|did you mean|didn't quite (get|understand)"
)
CRISIS = re.compile(
    r"your safety comes first|are you safe right now|this is an emergency|"
    r"keep these here in case you need them|suicide & crisis lifeline",
    re.IGNORECASE,
)
GOODBYE = re.compile(r"take care of yourself\. you can come back", re.IGNORECASE)
# What a visitor says to a question their script has no answer for ("[A|B" taps a button).
DEFAULT_REPLIES = {
    "did_you_mean": "[No",
    "resume": "[Yes|Sure",
    "confirm": "[Yes",
    "near_miss": "no",
}
NO_REPLY = "hello?"
# "Did you mean …?" is answered yes when the guess names the question the visitor just answered.
DID_YOU_MEAN = {
    "payment": "how you'd pay",
    "work": "work or school",
    "caregiving": "who depends on you",
    "availability": "when you're free",
}


# ----- visitors -----------------------------------------------------------------------------
@dataclass
class Visitor:
    """One scripted visitor and the recommendation they should end with."""

    name: str
    kind: str
    expect: str
    why: str
    answers: dict[str, str | list[str]]
    opening: list[str] = field(default_factory=lambda: ["hi"])
    retry: dict[str, str] = field(default_factory=dict)
    match: list[dict[str, str]] = field(default_factory=list)
    after_fit: list[str] = field(default_factory=list)
    expect_crisis: bool = False
    loved_one: bool = False
    readback: str = ""  # a read-back of the free time is right when it matches this regex
    source: str = ""

    def messages(self) -> list[str]:
        """Every text this visitor may type (for the similarity scan against training data)."""
        out = [m for m in self.opening if not m.startswith("[")]
        for value in [*self.answers.values(), *self.retry.values()]:
            out += [value] if isinstance(value, str) else list(value)
        out += [m["reply"] for m in self.match] + self.after_fit
        return [m for m in out if not m.startswith("[")]


def _visitor(raw: dict[str, Any], kind: str, source: str) -> Visitor:
    answers = {str(k): v for k, v in (raw.get("answers") or {}).items()}
    return Visitor(
        name=str(raw.get("name", "")),
        kind=kind,
        expect=str(raw.get("expect", "")),
        why=str(raw.get("why", "")),
        answers=answers,
        opening=[str(m) for m in raw.get("opening", ["hi"])],
        retry={str(k): str(v) for k, v in (raw.get("retry") or {}).items()},
        match=[
            {"pattern": str(m["pattern"]), "reply": str(m["reply"])} for m in raw.get("match", [])
        ],
        after_fit=[str(m) for m in raw.get("after_fit", [])],
        expect_crisis=bool(raw.get("expect_crisis", False)),
        loved_one=bool(raw.get("loved_one", kind == "loved_one")),
        readback=str(raw.get("readback", "")),
        source=source,
    )


def load_visitors(directory: Path = VISITORS_DIR) -> list[Visitor]:
    """Every visitor of every ``*.yml`` file in ``directory``, in file order."""
    visitors: list[Visitor] = []
    for path in sorted(directory.glob("*.yml")):
        data = yaml.safe_load(path.read_text()) or {}
        kind = str(data.get("kind", path.stem))
        visitors += [_visitor(raw, kind, path.name) for raw in data.get("visitors", [])]
    return visitors


def problems(visitors: list[Visitor]) -> list[str]:
    """Schema problems in a set of visitors (empty when all is well)."""
    found: list[str] = []
    seen: set[str] = set()
    for v in visitors:
        where = f"{v.source}:{v.name or '?'}"
        if not v.name or v.name in seen:
            found.append(f"{where}: name missing or not unique")
        seen.add(v.name)
        if v.kind not in KINDS:
            found.append(f"{where}: kind {v.kind!r} is not one of {KINDS}")
        if v.expect not in PROGRAMS:
            found.append(f"{where}: expect {v.expect!r} is not one of {PROGRAMS}")
        if len(v.why) < 10:
            found.append(f"{where}: `why` must say why {v.expect!r} is right")
        unknown = set(v.answers) - set(ANSWER_TOPICS)
        unknown |= set(v.retry) - set(ANSWER_TOPICS)
        if unknown:
            found.append(f"{where}: unknown topics {sorted(unknown)}")
        for value in v.answers.values():
            items = [value] if isinstance(value, str) else value
            if not items or not all(isinstance(i, str) and i.strip() for i in items):
                found.append(f"{where}: every answer must be a non-empty text or list of texts")
        for m in [*v.match, {"pattern": v.readback}]:
            with contextlib.suppress(re.error):
                re.compile(m["pattern"])
                continue
            found.append(f"{where}: bad match pattern {m['pattern']!r}")
    return found


# ----- reading the bot ----------------------------------------------------------------------
def _message_text(reply: dict[str, Any]) -> str:
    titles = " ".join(b.get("title", "") for b in reply.get("buttons") or [])
    return f"{reply.get('text') or ''} {titles}".lower()


def detect_topic(replies: list[dict[str, Any]]) -> str | None:
    """The topic of the bot's latest question in one turn's replies (last message first)."""
    for reply in reversed(replies):
        text = _message_text(reply)
        for topic, pattern in TOPIC_PATTERNS:
            if re.search(pattern, text):
                return topic
    return None


def is_reask(replies: list[dict[str, Any]]) -> bool:
    """Whether the bot said it did not understand (re-ask, easy buttons or "Did you mean")."""
    return any(REASK.search((r.get("text") or "").lower()) for r in replies)


def is_crisis(replies: list[dict[str, Any]]) -> bool:
    """Whether a reply is one of the crisis responses (911 / 988 / SAMHSA)."""
    return any(CRISIS.search(r.get("text") or "") for r in replies)


def is_goodbye(replies: list[dict[str, Any]]) -> bool:
    """Whether the bot said goodbye."""
    return any(GOODBYE.search(r.get("text") or "") for r in replies)


def _tap(text: str, buttons: list[dict[str, Any]]) -> tuple[str, str]:
    """A ``[Title`` (or ``[A|B``) reply taps the newest button whose title starts so: (shown, sent)."""
    if not text.startswith("["):
        return text, text
    wanted = [w.strip().lower() for w in text.strip("[]").split("|")]
    for want in wanted:
        for button in reversed(buttons):
            if button.get("title", "").lower().startswith(want):
                return f"[{button['title']}]", str(button.get("payload", want))
    return wanted[0], wanted[0]  # no such button: the visitor types the word


# ----- talking to Rasa ----------------------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def admin_jwt(secret: str) -> str:
    """A short-lived HS256 admin token in the shape ``rasa run --jwt-secret`` checks."""
    now = int(time.time())
    claims = {"user": {"username": "simulate", "role": "admin"}, "iat": now, "exp": now + 3600}
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())
    sig = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(sig)}"


class Rasa:
    """The REST channel and tracker API of one Rasa server."""

    def __init__(self, url: str, jwt_secret: str | None = None) -> None:
        """Target ``url``; sign tracker requests when the server has a JWT secret."""
        self.url = url.rstrip("/")
        self.headers = {"Content-Type": "application/json"}
        if jwt_secret:
            self.headers["Authorization"] = f"Bearer {admin_jwt(jwt_secret)}"

    def _call(self, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}{path}", data=data, headers=self.headers)
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read() or b"null")

    def say(self, sender: str, text: str) -> list[dict[str, Any]]:
        """Send one message; the bot's replies."""
        return list(self._call("/webhooks/rest/webhook", {"sender": sender, "message": text}))

    def slots(self, sender: str) -> dict[str, Any]:
        """The conversation's current slots."""
        return dict(self._call(f"/conversations/{sender}/tracker")["slots"])


# ----- one conversation ---------------------------------------------------------------------
@dataclass
class Outcome:
    """What happened in one simulated conversation."""

    name: str
    kind: str
    expected: str
    got: str | None
    success: bool
    reason: str
    turns: int
    reasks: int
    repeats: int
    readback_changes: int
    crisis: bool
    goodbye: bool
    reask_turns: list[dict[str, str]]
    last_bot: list[str]
    last_visitor: str
    understood: str  # the bot's "Here's what you told me" summary, if it gave one
    transcript: list[str]


class Conversation:
    """A visitor answering whatever the bot asks, until a final recommendation or a stop."""

    def __init__(self, visitor: Visitor, rasa: Rasa) -> None:
        """A fresh conversation id for ``visitor``."""
        self.v = visitor
        self.rasa = rasa
        self.sender = f"sim-{visitor.name}-{uuid.uuid4().hex[:8]}"
        self.lines: list[str] = []
        self.turns = 0
        self.reasks = 0
        self.reask_turns: list[dict[str, str]] = []
        self.crisis = False
        self.goodbye = False
        self.queue: list[str] = []
        self.sent: dict[str, int] = {}  # topic -> times answered
        self.last: list[dict[str, Any]] = []
        self.last_visitor = ""
        self.pending: str | None = None  # the last question the bot asked
        self.fails: dict[str, int] = {}  # topic -> re-asks
        self.asked: dict[str, int] = {}  # topic -> times asked
        self.answered: str | None = None  # the question the visitor's last message answered
        self.repeats = 0  # questions asked again right after an answer, with no "didn't catch"
        self.changes = 0  # read-backs the visitor said were wrong
        self.buttons: list[dict[str, Any]] = []  # every button shown so far (the chat scrolls)

    def send(self, text: str) -> list[dict[str, Any]]:
        """Send a message (tapping a button for ``[Title``) and record both sides."""
        shown, sent = _tap(text, self.buttons)
        self.lines.append(f"VISITOR: {shown}")
        replies = self.rasa.say(self.sender, sent)
        self.turns += 1
        if not replies:
            self.lines.append("BOT: (no reply)")
        for reply in replies:
            body = (reply.get("text") or "").strip()
            self.lines += [f"BOT: {line}" for line in body.splitlines() or [""]]
            titles = [b.get("title", "") for b in reply.get("buttons") or []]
            if titles:
                self.lines.append("      " + " ".join(f"[{t}]" for t in titles))
        if is_reask(replies):
            self.reasks += 1
            said = " / ".join((r.get("text") or "")[:160] for r in replies)
            self.reask_turns.append({"visitor": shown, "bot": said})
        self.crisis = self.crisis or is_crisis(replies)
        self.goodbye = self.goodbye or is_goodbye(replies)
        self.last, self.last_visitor = replies, shown
        self.buttons += [b for r in replies for b in r.get("buttons") or []]
        return replies

    def reply_for(self, topic: str | None, replies: list[dict[str, Any]]) -> str:
        """The visitor's next message for the bot's question ``topic``."""
        text = " ".join((r.get("text") or "") for r in replies)
        for m in self.v.match if topic is None else []:  # follow-ups the topics don't know
            if re.search(m["pattern"], text, re.IGNORECASE):
                return m["reply"]
        if topic == "who_for" and self.fails.get("who_for", 0) >= 2:
            # typing did not work twice: scroll up and tap the greeting's button
            return "[I'm asking for someone" if self.v.loved_one else "[I want help for myself"
        if topic == "confirm" and self.v.readback and "confirm" not in self.v.answers:
            if re.search(self.v.readback, text, re.IGNORECASE):
                return "[Yes"
            self.changes += 1
            return "[Change it|No"
        if topic == "did_you_mean" and "did_you_mean" not in self.v.answers:
            guess = DID_YOU_MEAN.get(self.pending or "", "")
            if self.pending == "who_for":
                guess = "someone you care about" if self.v.loved_one else "help starting"
            return "[Yes" if guess and guess in text.lower() else "[No"
        if topic not in self.v.answers and topic in DEFAULT_REPLIES:
            return DEFAULT_REPLIES[str(topic)]
        key = topic if topic in self.v.answers else "default"
        answer = self.v.answers.get(key, "ok")
        items = [answer] if isinstance(answer, str) else list(answer)
        times = self.sent.get(key, 0)
        self.sent[key] = times + 1
        if times == 0:
            self.queue = items[1:]
            return items[0]
        return self.v.retry.get(key, items[-1])  # asked again: say it more plainly, if scripted

    def run(self) -> Outcome:
        """Play the visitor to the end and score the conversation."""
        replies: list[dict[str, Any]] = []
        reason = ""
        for text in self.v.opening:
            replies = self.send(text)
        after_fit = list(self.v.after_fit)
        slots: dict[str, Any] = {}
        while True:
            topic = detect_topic(replies)
            if topic is None and is_reask(replies) and self.pending:
                topic = self.pending  # "could you say that another way?": the same question
            if topic in QUESTION_TOPICS and topic not in ("callback", "handoff", "did_you_mean"):
                self.pending = topic
            slots = self.rasa.slots(self.sender)
            if (self.crisis and not self.v.expect_crisis) or self.goodbye:
                reason = "crisis reply" if self.crisis else "goodbye before the end"
                break
            has_fit = slots.get("recommended_program") is not None
            if has_fit and topic not in STILL_ASKING and not self.queue:
                if not after_fit:
                    break
                replies = self.send(after_fit.pop(0))
                continue
            if topic == "handoff" and not has_fit:
                reason = "handed off before a recommendation"
                break
            if is_reask(replies) and self.pending:
                self.fails[self.pending] = self.fails.get(self.pending, 0) + 1
                if self.fails[self.pending] >= GIVE_UP:
                    reason = f"gave up: {self.pending} re-asked {GIVE_UP} times"
                    break
            if topic is not None:
                self.asked[topic] = self.asked.get(topic, 0) + 1
                if self.asked[topic] > GIVE_UP + 1:
                    reason = f"gave up: {topic} asked {self.asked[topic]} times"
                    break
            if self.turns >= MAX_TURNS:
                reason = f"no final recommendation after {MAX_TURNS} turns"
                break
            if topic is not None and topic == self.answered and not is_reask(replies):
                self.repeats += 1  # the same question again, without saying it was unclear
            self.answered = None
            if self.queue and topic not in ("near_miss", "did_you_mean"):  # a read-back too
                replies = self.send(self.queue.pop(0))
            elif not replies:
                replies = self.send(NO_REPLY)  # the bot said nothing: the visitor nudges it
            else:
                replies = self.send(self.reply_for(topic, replies))
                self.answered = topic if topic in SLOT_QUESTIONS and not self.queue else None
        return self.outcome(slots, reason)

    def outcome(self, slots: dict[str, Any], reason: str) -> Outcome:
        """Score the finished conversation."""
        got = slots.get("recommended_program")
        crisis = self.crisis or bool(slots.get("crisis_detected"))
        if not reason and crisis and not self.v.expect_crisis:
            reason = "crisis reply"
        if not reason and got != self.v.expect:
            reason = f"expected {self.v.expect}, got {got}"
        last_bot = [(r.get("text") or "")[:300] for r in self.last]
        told = [t for t in self.lines if t.startswith("BOT: ")]
        starts = [i for i, t in enumerate(told) if t.startswith("BOT: Here's what you told me")]
        understood = ""
        if starts:
            block = [t[5:] for t in told[starts[-1] + 1 :]]
            keep = ("Payment", "Work", "Busy", "Can take", "Caregiving", "Free", "Screen", "Severe")
            understood = "; ".join(t for t in block if t.startswith(keep))
        return Outcome(
            self.v.name,
            self.v.kind,
            self.v.expect,
            got,
            not reason,
            reason,
            self.turns,
            self.reasks,
            self.repeats,
            self.changes,
            crisis,
            self.goodbye,
            self.reask_turns,
            last_bot,
            self.last_visitor,
            understood,
            self.lines,
        )


# ----- servers ------------------------------------------------------------------------------
@contextlib.contextmanager
def local_servers(tmp: Path) -> Iterator[str]:
    """A Rasa server + action server on free loopback ports, fresh SQLite tracker, fixed clock."""
    from benchmarks.servers import admissions_servers  # the launcher's start-up, no tests/

    with admissions_servers(tmp) as url:
        yield url


# ----- report -------------------------------------------------------------------------------
def summarise(outcomes: list[Outcome]) -> dict[str, Any]:
    """Success rate, mean turns, mean re-asks, per-kind figures and the failures."""
    n = len(outcomes) or 1
    kinds: dict[str, dict[str, Any]] = {}
    for o in outcomes:
        k = kinds.setdefault(o.kind, {"visitors": 0, "success": 0, "reasks": 0})
        k["visitors"] += 1
        k["success"] += int(o.success)
        k["reasks"] += o.reasks
    return {
        "visitors": len(outcomes),
        "success": sum(o.success for o in outcomes),
        "success_rate": round(sum(o.success for o in outcomes) / n, 4),
        "mean_turns": round(sum(o.turns for o in outcomes) / n, 2),
        "mean_reasks": round(sum(o.reasks for o in outcomes) / n, 3),
        "mean_silent_repeats": round(sum(o.repeats for o in outcomes) / n, 3),
        "readback_changes": sum(o.readback_changes for o in outcomes),
        "wrong_crisis": sum(o.crisis for o in outcomes),
        "early_goodbye": sum(o.goodbye for o in outcomes),
        "by_kind": kinds,
        "failures": [
            {
                "name": o.name,
                "kind": o.kind,
                "reason": o.reason,
                "expected": o.expected,
                "got": o.got,
                "reasks": o.reask_turns,
                "last_visitor": o.last_visitor,
                "last_bot": o.last_bot,
                "understood": o.understood,
            }
            for o in outcomes
            if not o.success
        ],
        "conversations": [
            {k: v for k, v in asdict(o).items() if k not in ("transcript", "last_bot")}
            for o in outcomes
        ],
    }


def _python() -> str:
    exe = Path(sys.executable)
    return str(exe.relative_to(ROOT)) if exe.is_relative_to(ROOT) else str(exe)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def markdown(summary: dict[str, Any], meta: dict[str, Any]) -> str:
    """The human-readable report."""
    lines = [
        "# Simulated visitors (`make simulate`)",
        "",
        f"- date: {meta['date']}",
        f"- machine: {meta['machine']}",
        f"- command: `{meta['command']}`",
        f"- model: `{meta['model']}` (sha256 {meta['model_sha256']})",
        f"- target: {meta['target']}",
        "",
        f"**Success {summary['success']}/{summary['visitors']} ({summary['success_rate']:.0%})**, "
        f"mean turns {summary['mean_turns']}, mean re-asks {summary['mean_reasks']} per "
        f"conversation (targets: success ≥ 95 %, re-asks ≤ 0.3); questions repeated without "
        f"saying so {summary['mean_silent_repeats']} per conversation; read-backs the visitor "
        f"corrected {summary['readback_changes']}; wrong crisis replies "
        f"{summary['wrong_crisis']}, early goodbyes {summary['early_goodbye']}.",
        "",
        "| kind | visitors | success | re-asks |",
        "|---|---|---|---|",
    ]
    for kind, k in summary["by_kind"].items():
        lines.append(f"| {kind} | {k['visitors']} | {k['success']} | {k['reasks']} |")
    lines += ["", "## Failures", ""]
    if not summary["failures"]:
        lines.append("None.")
    for f in summary["failures"]:
        lines.append(f"- **{f['name']}** ({f['kind']}): {f['reason']}")
        for r in f["reasks"][:3]:
            lines.append(f"  - re-ask after “{r['visitor']}”: {r['bot'][:200]}")
        if f["understood"] and f["got"] is not None:
            lines.append(f"  - the bot understood: {f['understood'][:400]}")
        else:
            said = " / ".join(f["last_bot"])[:300]
            lines.append(f"  - last turn: “{f['last_visitor']}” → {said}")
    return "\n".join(lines) + "\n"


def table(summary: dict[str, Any]) -> str:
    """A short table for the terminal."""
    rows = [f"{'kind':<15}{'visitors':>9}{'success':>9}{'re-asks':>9}"]
    for kind, k in summary["by_kind"].items():
        rows.append(f"{kind:<15}{k['visitors']:>9}{k['success']:>9}{k['reasks']:>9}")
    rows.append(
        f"{'all':<15}{summary['visitors']:>9}{summary['success']:>9}"
        f"{round(summary['mean_reasks'] * summary['visitors']):>9}"
    )
    rows.append(
        f"success {summary['success_rate']:.1%}  mean turns {summary['mean_turns']}  "
        f"mean re-asks {summary['mean_reasks']}"
    )
    rows += [f"FAIL {f['name']}: {f['reason']}" for f in summary["failures"]]
    return "\n".join(rows)


def _write_transcripts(directory: Path, outcomes: list[Outcome], visitors: list[Visitor]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    by_name = {v.name: v for v in visitors}
    for o in outcomes:
        v = by_name[o.name]
        head = [
            f"# {o.name} ({o.kind}) — expected {o.expected}, got {o.got}: "
            f"{'OK' if o.success else 'FAIL ' + o.reason}",
            f"# why: {v.why}",
            "",
        ]
        (directory / f"{o.name}.txt").write_text("\n".join(head + o.transcript) + "\n")


def run_all(rasa: Rasa, visitors: list[Visitor]) -> list[Outcome]:
    """Play every visitor in turn, printing one line each."""
    outcomes: list[Outcome] = []
    for i, visitor in enumerate(visitors, 1):
        try:
            outcome = Conversation(visitor, rasa).run()
        except (OSError, urllib.error.URLError, ValueError) as exc:
            outcome = Outcome(visitor.name, visitor.kind, visitor.expect, None, False,
                              f"error: {exc}", 0, 0, 0, 0, False, False, [], [], "", "", [])  # fmt: skip
        mark = "ok  " if outcome.success else "FAIL"
        print(f"[{i:>3}/{len(visitors)}] {mark} {visitor.name}: {outcome.reason or outcome.got}",
              flush=True)  # fmt: skip
        outcomes.append(outcome)
    return outcomes


def main(argv: list[str] | None = None) -> int:
    """Run the simulation and write the report; 2 when the servers could not start."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an already running Rasa server, e.g. http://127.0.0.1:5005")
    parser.add_argument("--jwt-secret", help="its --jwt-secret (default: var/rasa_jwt_secret)")
    parser.add_argument("--only", help="run only these visitors (names, comma-separated)")
    parser.add_argument("--transcripts", type=Path, help="write one transcript per visitor here")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers on SIGTERM too

    visitors = load_visitors()
    bad = problems(visitors)
    if bad:
        print("visitor files have problems:\n  " + "\n  ".join(bad), file=sys.stderr)
        return 2
    if args.only:
        names = set(args.only.split(","))
        unknown = names - {v.name for v in visitors}
        if unknown:
            print(f"no visitor named {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        visitors = [v for v in visitors if v.name in names]
    started = time.monotonic()
    model_sha = _sha256(MODEL)[:12] if MODEL.exists() else "missing"  # before a retrain can swap it
    if args.url:
        secret = args.jwt_secret or os.environ.get("RASA_JWT_SECRET")
        secret_file = ROOT / "var" / "rasa_jwt_secret"
        if not secret and secret_file.exists():
            secret = secret_file.read_text().strip()
        outcomes = run_all(Rasa(args.url, secret), visitors)
        target = args.url
    else:
        if not MODEL.exists():
            print(f"no trained model at {MODEL}: run `make train`", file=sys.stderr)
            return 2
        with tempfile.TemporaryDirectory(prefix="simulate-") as tmp:
            try:
                with local_servers(Path(tmp)) as url:
                    print(f"==> servers up at {url}; {len(visitors)} visitors", flush=True)
                    outcomes = run_all(Rasa(url), visitors)
            except RuntimeError as exc:
                print(f"error: the servers could not start: {exc}", file=sys.stderr)
                return 2
        target = f"own servers on loopback, fresh SQLite tracker, ADMISSIONS_CLOCK={CLOCK}"
    summary = summarise(outcomes)
    meta = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.node()} ({platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()})",
        "command": " ".join([_python(), "-m benchmarks.simulate", *(argv or sys.argv[1:])]),
        "model": str(MODEL.relative_to(ROOT)),
        "model_sha256": model_sha,
        "target": target,
        "seconds": round(time.monotonic() - started, 1),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps({**meta, **summary}, indent=2) + "\n")
    (args.out / "summary.md").write_text(markdown(summary, meta))
    if args.transcripts:
        _write_transcripts(args.transcripts, outcomes, visitors)
    print(table(summary))
    print(f"-> {args.out / 'summary.md'} ({meta['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
