"""The scripted visitors of `make simulate` (``benchmarks/visitors/*.yml``): their definition,
how they are read, what a well-formed one is, and the topics of the bot's questions they answer.

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
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
VISITORS_DIR = ROOT / "benchmarks" / "visitors"
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
