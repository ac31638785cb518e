"""Property tests: extract_facts survives any input and always returns well-formed facts."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from admissions.profile import PAYMENT_KINDS, WEEKDAYS, WeeklyPicture, WorkSchool
from admissions.understanding.facts import CARE_VALUES, Facts, extract_facts

FRAGMENTS = [
    "I work",
    "9-5",
    "Mon–Fri",
    "m-f",
    "7p-7a",
    "11pm-7am",
    "between 12 and 4",
    "after 5",
    "before noon",
    "not fridays",
    "except sunday",
    "weekends only",
    "all day saturday",
    "evenings",
    "nights",
    "3 days a week",
    "4 hrs a day",
    "12-hour night shifts",
    "three 12s a week",
    "free",
    "can't do",
    "busy",
    "my kids",
    "my mom lives with me",
    "take care of",
    "no kids",
    "Aetna",
    "no insurance",
    "Medicaid",
    "pay myself",
    "money is tight",
    "yes",
    "nah",
    "seizure",
    "never had",
    "FMLA",
    "can't take time off",
    "actually",
    "24:00",
    "0:00",
    "12-12",
    "midnight-noon",
    "99-99",
    "after 23:59",
    "from",
    "to",
    "and",
    ",",
    ".",
    "-",
    "\n",
]

any_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
phrase_soup = st.lists(st.one_of(st.sampled_from(FRAGMENTS), any_text), max_size=40).map(" ".join)
long_text = st.builds(
    lambda chunk, times: (chunk * times)[:100_000],
    st.one_of(st.sampled_from(FRAGMENTS), any_text.filter(bool)),
    st.integers(min_value=1, max_value=20_000),
)
control_text = st.text(
    alphabet=st.sampled_from(["\x00", "\x07", "\x1b", "\u202e", "\ufeff", "\r", "\t", "9", "-"]),
    max_size=200,
)
messages = st.one_of(any_text, phrase_soup, long_text, control_text)


class _Failures(logging.Handler):
    """Collects warnings logged by the extractor (it logs instead of raising)."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def no_swallowed_errors() -> Iterator[None]:
    """Fail when extract_facts had to swallow an exception."""
    handler = _Failures()
    logger = logging.getLogger("admissions.understanding.facts")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    assert not handler.records, [r.getMessage() for r in handler.records]


def check_picture(picture: WeeklyPicture) -> None:
    """Windows sorted, disjoint, within the day; capacities sane; survives the slot round trip."""
    assert set(picture.windows) <= set(WEEKDAYS)
    for windows in picture.windows.values():
        assert windows, "days without windows are left out"
        for start, end in windows:
            assert isinstance(start, int) and isinstance(end, int)
            assert 0 <= start < end <= 1440
        assert windows == sorted(windows)
        assert all(a[1] < b[0] for a, b in pairwise(windows))
    assert picture.max_days is None or 1 <= picture.max_days <= 7
    assert picture.max_hours is None or 0 < picture.max_hours <= 24
    assert WeeklyPicture.from_slot(picture.to_slot()) == picture


def check_facts(facts: Facts) -> None:
    """Every field has the type and vocabulary the rest of the assistant expects."""
    assert isinstance(facts, Facts)
    for picture in (facts.busy, facts.free):
        if picture is not None:
            check_picture(picture)
    assert facts.caregiving is None or (
        set(facts.caregiving) <= set(CARE_VALUES)
        and len(set(facts.caregiving)) == len(facts.caregiving)
    )
    assert facts.payment is None or facts.payment in PAYMENT_KINDS
    assert facts.payer is None or isinstance(facts.payer, str)
    assert facts.work_school is None or isinstance(facts.work_school, WorkSchool)
    if facts.work_school is not None:
        assert WorkSchool.from_slot(facts.work_school.to_slot()) == facts.work_school
    for flag in (facts.can_take_leave, facts.answer, facts.severe_withdrawal):
        assert flag is None or isinstance(flag, bool)
    assert isinstance(facts.correction, bool)


@settings(max_examples=200, deadline=None)
@given(messages)
def test_any_message_gives_well_formed_facts(text: str) -> None:
    with no_swallowed_errors():
        facts = extract_facts(text)
    check_facts(facts)


@settings(max_examples=50, deadline=None)
@given(messages, st.sampled_from(["work", "free", None, "nonsense"]))
def test_what_was_asked_never_breaks_reading(text: str, asked: str | None) -> None:
    with no_swallowed_errors():
        facts = extract_facts(text, asked_about=asked)
    check_facts(facts)


def test_lone_surrogates_and_non_text_do_not_raise() -> None:
    check_facts(extract_facts("free after 5 \ud800 mon-fri"))
    check_facts(extract_facts(None))  # type: ignore[arg-type]
    check_facts(extract_facts(b"9-5 mon-fri"))  # type: ignore[arg-type]
