"""One simulated conversation: a scripted visitor answering whatever the bot asks, until a
final recommendation or a stop, and the outcome it is scored by.

The topic of the bot's latest question is read from its text (``visitor.TOPIC_PATTERNS``) and
the visitor's reply for that topic is sent, so a visitor still works when the bot asks in
another order, skips a question it already knows the answer to, or asks a new one.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from benchmarks.rasa_rest import Rasa
from benchmarks.visitor import QUESTION_TOPICS, TOPIC_PATTERNS, Visitor

MAX_TURNS = 30
GIVE_UP = 4  # a visitor stops after the same question was re-asked this often
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
