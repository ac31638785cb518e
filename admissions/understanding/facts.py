"""Structured facts from one visitor message: schedule, caregiving, payment, short answers.

The spaCy pipeline built from ``admissions/understanding/patterns/*.yml`` locates the phrases; the
``extract_*`` modules read them into the data model of :mod:`admissions.profile`. One message
may fill several fields at once; a field left as None was not mentioned.

``extract_facts`` never raises and stays fast: input is cleaned of control characters and
cut to :data:`~admissions.understanding.text.MAX_CHARS` characters before parsing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from admissions.profile import WeeklyPicture, WorkSchool
from admissions.understanding.answers import (
    read_answer,
    read_correction,
    read_leave,
    read_severe_withdrawal,
)
from admissions.understanding.care import CARE_VALUES, read_caregiving
from admissions.understanding.payment import read_payment
from admissions.understanding.schedule_reader import read_schedule
from admissions.understanding.text import clean_text

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

__all__ = ["CARE_VALUES", "Facts", "default_pipeline", "extract_facts", "parse"]

log = logging.getLogger(__name__)


@dataclass
class Facts:
    """What one message said; None means "not mentioned".

    ``busy`` holds work/school hours (and times the visitor says they cannot do), ``free``
    stated free time; "3 days a week"/"4 hours a day" land in their ``max_days``/``max_hours``.
    ``work_school`` is work and school as data (``profile.WorkSchool``; kind, status, shifts,
    hours as said), a "none" value when they do neither. ``caregiving`` uses
    :data:`CARE_VALUES`, ``[]`` meaning nobody depends on the visitor. ``payment`` is one of
    ``profile.PAYMENT_KINDS``.
    ``answer`` is a yes/no at the start of the message. ``correction`` is True when the
    visitor corrects an earlier answer ("actually I work nights"): replace, don't merge.
    """

    busy: WeeklyPicture | None = None
    work_school: WorkSchool | None = None
    free: WeeklyPicture | None = None
    caregiving: list[str] | None = None
    payment: str | None = None
    payer: str | None = None
    can_take_leave: bool | None = None
    answer: bool | None = None
    severe_withdrawal: bool | None = None
    correction: bool = False

    def mentioned(self) -> dict[str, Any]:
        """The fields the message filled, JSON-ready (weekly pictures as slot dicts)."""
        out: dict[str, Any] = {}
        for name, value in vars(self).items():
            if value is None or (name == "correction" and not value):
                continue
            out[name] = value.to_slot() if isinstance(value, (WeeklyPicture, WorkSchool)) else value
        return out


@lru_cache(maxsize=1)
def default_pipeline() -> Language:
    """The pipeline built in memory from the pattern files (cached for the process)."""
    from admissions.understanding import pipeline as nlp_builder

    nlp: Language = nlp_builder.build()
    return nlp


def _extract(doc: Doc, asked_about: str | None) -> Facts:
    """Run every reader over one parsed message."""
    text = doc.text
    schedule = read_schedule(doc, asked_about)
    payment = read_payment(doc)
    leave = read_leave(doc)
    work = schedule.work_school
    if leave and work is not None and work.job is not None:
        work = replace(work, on_leave=True)  # "I'm on leave from my job"
    return Facts(
        busy=schedule.busy,
        work_school=work,
        free=schedule.free,
        caregiving=read_caregiving(doc, asked=asked_about == "care"),
        payment=payment.payment,
        payer=payment.payer,
        can_take_leave=leave,
        answer=read_answer(text),
        severe_withdrawal=read_severe_withdrawal(doc),
        correction=read_correction(text),
    )


def parse(text: str, nlp: Language | None = None) -> Doc | None:
    """Clean and parse one message once; None when there is nothing to read or parsing fails.

    Read the same message several ways (as work hours, as free time) from this one parse.
    """
    cleaned = clean_text(text)
    if not cleaned.strip():
        return None
    try:
        return (nlp or default_pipeline())(cleaned)
    except Exception as exc:  # noqa: BLE001 - a bad parse must never break the conversation
        log.warning("parsing a message failed: %s", type(exc).__name__)
        return None


def extract_facts(
    text: str | Doc | None, nlp: Language | None = None, *, asked_about: str | None = None
) -> Facts:
    """Read every fact one message states; never raises (bad input gives an empty ``Facts``).

    ``text`` is the message, or its parse from :func:`parse`. ``asked_about`` ("work" or
    "free") says what the assistant just asked, so that a bare "9-5 mon-fri" is read as work
    hours; without it, schedule phrases with no cue such as "I work" or "free" are read as
    free time.
    """
    doc = parse(text, nlp) if isinstance(text, str) else text
    if doc is None:
        return Facts()
    try:
        return _extract(doc, asked_about)
    except Exception as exc:  # noqa: BLE001 - a bad parse must never break the conversation
        log.warning("fact extraction failed: %s", type(exc).__name__)
        return Facts()


_THIRD_TO_FIRST: tuple[tuple[str, str], ...] = (
    (r"\b(he|she|they) (is|'s|are|'re)\b", "i am"),
    (r"\b(he|she|they)'s\b", "i am"),
    (r"\b(hes|shes|theyre)\b", "i am"),
    (r"\b(he|she|they) (has|have)\b", "i have"),
    (r"\b(he|she|they) (does|do)n'?t\b", "i don't"),
    (
        r"\b(he|she|they) (works|goes|gets|takes|looks|cares|watches|drives|attends|studies)\b",
        "i \\2",
    ),
    (r"\b(he|she|they)\b", "i"),
    (r"\b(his|her|their)\b", "my"),
    (r"\b(him|them)\b", "me"),
)


def to_first_person(text: str) -> str:
    """Rewrite "he works 7-3, his kids…" as "i work 7-3, my kids…" (loved-one mode)."""
    import re

    out = text.lower()
    for pattern, repl in _THIRD_TO_FIRST:
        out = re.sub(pattern, repl, out)
    out = re.sub(
        r"\bi (work|go|get|take|look|care|watch|drive|attend|stud)(s|es|ies)\b",
        lambda m: "i " + (m.group(1) + "y" if m.group(1) == "stud" else m.group(1)),
        out,
    )
    return out
