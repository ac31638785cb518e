"""The "help admissions prepare" answers: what a visitor types is read, checked and normalised."""

from __future__ import annotations

from datetime import date

import pytest

from admissions.handoff import answers

TODAY = date(2026, 12, 3)


@pytest.mark.parametrize(
    "text",
    ["03/14/1988", "3/14/1988", "March 14 1988", "march 14, 1988", "Mar 14th 1988",
     "14 March 1988", "1988-03-14", "3-14-88", "03.14.1988"],
)  # fmt: skip
def test_a_birth_date_in_any_common_form_is_stored_as_iso(text: str) -> None:
    assert answers.read_birth_date(text, TODAY) == "1988-03-14"


@pytest.mark.parametrize(
    "text",
    ["02/30/1990", "13/14/1988", "tomorrow", "1988", "03/14/2030", "2020-01-01", "1900-01-01",
     "the fourteenth", ""],
)  # fmt: skip
def test_impossible_future_or_implausible_birth_dates_are_refused(text: str) -> None:
    assert answers.read_birth_date(text, TODAY) is None


def test_ages_from_12_to_110_are_accepted() -> None:
    assert answers.read_birth_date("2014-12-03", TODAY) == "2014-12-03"  # 12 today
    assert answers.read_birth_date("2014-12-04", TODAY) is None  # 11
    assert answers.read_birth_date("1916-12-03", TODAY) == "1916-12-03"  # 110


@pytest.mark.parametrize(
    ("text", "expected"),
    [("XJ4-55821-A", "XJ4-55821-A"), ("w123456789", "W123456789"), ("ABC 123 456", "ABC123456"),
     ("my member id is 88812345", "88812345"), ("12345", "12345")],
)  # fmt: skip
def test_member_ids_of_the_right_shape_are_kept(text: str, expected: str) -> None:
    assert answers.read_member_id(text) == expected


@pytest.mark.parametrize(
    "text", ["1234", "ABCDEFGH", "XJ4_558!", "A" * 10 + "1" * 11, "it's on the card somewhere"]
)
def test_member_ids_of_the_wrong_shape_are_refused(text: str) -> None:
    assert answers.read_member_id(text) is None


def test_group_numbers() -> None:
    assert answers.read_group_number("group 0045-12") == "0045-12"
    assert answers.read_group_number("no idea what that is") is None


@pytest.mark.parametrize(
    "text",
    ["skip", "Skip", "pass", "rather not say", "I'd rather not say", "prefer not to answer",
     "not sure", "I don't know", "idk", "n/a"],
)  # fmt: skip
def test_skipping_in_words(text: str) -> None:
    assert answers.is_skip(text)


def test_an_answer_is_not_a_skip() -> None:
    assert not answers.is_skip("Sam")
    assert not answers.is_skip("yes")


def test_stopping_the_whole_step() -> None:
    assert answers.wants_to_stop("no more questions please")
    assert answers.wants_to_stop("can we skip the rest")
    assert not answers.wants_to_stop("skip")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("yes", True), ("Yeah", True), ("she is", True), ("nope", False), ("no", False),
     ("not really", False), ("maybe", None)],
)  # fmt: skip
def test_yes_no(text: str, expected: bool | None) -> None:
    assert answers.read_yes_no(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("alcohol", (["alcohol"], None)),
     ("alcohol and xanax", (["alcohol", "benzodiazepines"], None)),
     ("Opioids (heroin, fentanyl, pills)", (["opioids"], None)),
     ("meth, weed", (["stimulants", "cannabis"], None)),
     ("gabapentin", (["other"], "gabapentin")),
     ("Something else", (["other"], None)),
     ("beer and gabapentin", (["alcohol", "other"], "gabapentin")),
     ("heroin, and gabapentin sometimes", (["opioids", "other"], "gabapentin"))],
)  # fmt: skip
def test_substances_several_allowed_plus_free_text(
    text: str, expected: tuple[list[str], str | None]
) -> None:
    assert answers.read_substances(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Today", "today"), ("this morning", "today"), ("yesterday", "1-3 days"),
     ("1–3 days ago", "1-3 days"), ("5 days ago", "4-7 days"), ("two weeks ago", "1-4 weeks"),
     ("Over a month ago", "over a month"), ("6 months", "over a month"), ("dunno", None)],
)  # fmt: skip
def test_last_use(text: str, expected: str | None) -> None:
    assert answers.read_last_use(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("I'm his mom", "parent"), ("wife", "spouse_partner"), ("my son", "parent"),
     ("I'm their child", "child"), ("she's my mother", "child"), ("my husband", "spouse_partner"),
     ("Sibling", "sibling"), ("just a friend", "friend"), ("cousin", "other"), ("hmm", None)],
)  # fmt: skip
def test_relationship_of_the_person_chatting(text: str, expected: str | None) -> None:
    assert answers.read_relationship(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Yes, it's mine", "self"), ("my own", "self"), ("my husband's", "spouse"),
     ("A parent's", "parent"), ("someone else's", "other"), ("yes", "self"), ("hmm", None)],
)  # fmt: skip
def test_whose_name_the_insurance_is_in(text: str, expected: str | None) -> None:
    assert answers.read_subscriber_relationship(text) == expected


def test_payer_from_the_facility_list_or_other() -> None:
    accepted = ["Aetna", "Cigna", "Blue Cross Blue Shield", "UnitedHealthcare"]
    assert answers.match_payer("aetna", accepted) == "Aetna"
    assert answers.match_payer("it's BCBS", accepted) == "Blue Cross Blue Shield"
    assert answers.match_payer("united healthcare", accepted) == "UnitedHealthcare"
    assert answers.match_payer("Kaiser", accepted) is None


def test_names_channel_and_language() -> None:
    assert answers.read_first_name("my name is sam rivera") == "Sam"
    assert answers.read_first_name("Jo") == "Jo"
    assert answers.read_first_name("1988-03-14") is None
    assert answers.read_name("Maria Lopez") == "Maria Lopez"
    assert answers.read_channel("text me please") == "text"
    assert answers.read_channel("Call") == "phone"
    assert answers.read_language("spanish please") == "Spanish"
    assert answers.read_language("English") == "English"


def test_the_packet_lists_answers_and_skips_and_leaves_out_what_was_never_asked() -> None:
    built = answers.build_packet(
        {"first_name": "Sam", "dob": answers.SKIP, "relationship": None, "substances": ["alcohol"]}
    )
    assert built == {"first_name": "Sam", "substances": ["alcohol"], "skipped": ["dob"]}
