"""The personal-details detector against a table of realistic messages carrying personal
details (issue 15 #5): every detail is found and redaction leaves none of it behind; and
look-alike ordinary messages stay clean."""

from __future__ import annotations

import pytest

from admissions.training import pii

# (message, the personal detail in it). Written the way visitors type: lower case, run-on,
# with typos and the words around the detail that a trainer would see.
TABLE: list[tuple[str, str]] = [
    # --- insurance member / policy ids, SSNs
    ("my member id is W123456789", "W123456789"),
    ("member id W123456789 on the card", "W123456789"),
    ("my aetna id is w987654321", "w987654321"),
    ("bcbs id XEH123456789", "XEH123456789"),
    ("the card says ZGP 8849 2201", "ZGP 8849 2201"),
    ("policy number 4482910", "4482910"),
    ("policy # 88213", "88213"),
    ("medicaid number is 123456789012", "123456789012"),
    ("medicaid id 21043988", "21043988"),
    ("my medicare number is 1EG4-TE5-MK73", "1EG4-TE5-MK73"),
    ("medicare 1EG4TE5MK73", "1EG4TE5MK73"),
    ("group number 0045821", "0045821"),
    ("subscriber id: MBR-00412345", "MBR-00412345"),
    ("my ssn is 123-45-6789", "123-45-6789"),
    ("social security 078-05-1120", "078-05-1120"),
    ("ssn 987654321", "987654321"),
    ("case number 2024-118832", "2024-118832"),
    ("my tricare id is 1234567890", "1234567890"),
    ("cigna member U12345678 01", "U12345678"),
    ("humana H12345678 is my id", "H12345678"),
    ("insurance id YRL447812093", "YRL447812093"),
    ("united healthcare 9876543210A", "9876543210A"),
    ("my id number is 55213", "55213"),
    ("client id 7781234", "7781234"),
    ("account number 0012 3456 7890", "0012 3456 7890"),
    # --- dates of birth and other full dates
    ("my dob is 03/14/1987", "03/14/1987"),
    ("dob 3/14/87", "3/14/87"),
    ("born 3-14-1987", "3-14-1987"),
    ("date of birth: 1987-03-14", "1987-03-14"),
    ("i was born on march 14, 1987", "march 14, 1987"),
    ("born on March 14th 1987 in ohio", "March 14th 1987"),
    ("his birthday is 14 march 1990", "14 march 1990"),
    ("my birthday is the 2nd of june 1995", "2nd of june 1995"),
    ("born in 1987", "1987"),
    ("dob jan 5 1979", "jan 5 1979"),
    ("DOB: 12.01.1969", "12.01.1969"),
    ("she was born on 7/4", "7/4"),
    ("birthday is dec 25th", "dec 25th"),
    ("my daughter was born on 11/02/2008", "11/02/2008"),
    ("b-day 9/9/99", "9/9/99"),
    ("date of birth is sept 30 1982", "sept 30 1982"),
    ("i'm a 2/29/1984 baby", "2/29/1984"),
    ("he was born feb 2 2001", "feb 2 2001"),
    ("dob 04-22-76", "04-22-76"),
    ("born on the 5th of may 1970", "5th of may 1970"),
    # --- street addresses, PO boxes, ZIP codes
    ("i live at 123 main st", "123 main st"),
    ("we're at 4500 N. Elm Street Apt 4B", "4500 N. Elm Street Apt 4B"),
    ("come to 77 Sunset Blvd", "77 Sunset Blvd"),
    ("my address is 12 Oak Ln", "12 Oak Ln"),
    ("send it to 908 west maple avenue", "908 west maple avenue"),
    ("i'm at 15 Cherry Hill Road", "15 Cherry Hill Road"),
    ("3300 e 5th ave #210", "3300 e 5th ave #210"),
    ("she lives on 22 Willow Way", "22 Willow Way"),
    ("1600 Pennsylvania Ave", "1600 Pennsylvania Ave"),
    ("pick me up at 48 Birchwood Court", "48 Birchwood Court"),
    ("it's 215 Park Place", "215 Park Place"),
    ("our house is 9 Lakeview Dr", "9 Lakeview Dr"),
    ("we moved to 1402 county road", "1402 county road"),
    ("at 3 Ridge Circle", "3 Ridge Circle"),
    ("i stay at 610 S Broadway Street", "610 S Broadway Street"),
    ("mail goes to po box 4412", "po box 4412"),
    ("P.O. Box 77", "P.O. Box 77"),
    ("springfield, IL 62704", "IL 62704"),
    ("zip code 90210", "zip code 90210"),
    ("my zip is 10027", "zip is 10027"),
    ("i work at the Shell on Elm Street", "Elm Street"),
    ("we live off Mill Creek Road", "Mill Creek Road"),
    ("near Magnolia Avenue", "Magnolia Avenue"),
    ("4 Pine Terrace apt 2", "4 Pine Terrace"),
    ("i'm in the trailer at 18 Route Highway", "18 Route Highway"),
    # --- names, including lower case
    ("my name is jessica", "jessica"),
    ("my name is jaxon", "jaxon"),
    ("my son is named kayden", "kayden"),
    ("my daughter's name is kaylee", "kaylee"),
    ("my husband is called tre", "tre"),
    ("my wife maria lopez drinks", "maria lopez"),
    ("call maria lopez at work", "maria lopez"),
    ("im sarah johnson", "sarah johnson"),
    ("this is david garcia", "david garcia"),
    ("ask for Dr. Patel", "Patel"),
    ("Hi, I'm Sarah Lopez", "Sarah Lopez"),
    ("my boyfriend Marcus uses every day", "Marcus"),
    ("my mom, Linda, wants to know the cost", "Linda"),
    ("my brother michael is using again", "michael"),
    ("its jennifer", "jennifer"),
    ("this is Deshawn speaking", "Deshawn"),
    ("call me Bex", "Bex"),
    ("my names josh", "josh"),
    ("I'm Keisha Washington", "Keisha Washington"),
    ("my dad robert pays", "robert"),
    ("my sponsor Tony said to call", "Tony"),
    ("ask for Ms. Okafor", "Okafor"),
    ("my girlfriend is named destiny", "destiny"),
    ("my son's name is Jayden Smith", "Jayden Smith"),
    ("my name is christopher brown", "christopher brown"),
    ("can Will come to family night", "Will"),
    # --- phone numbers and emails (as before)
    ("call me at 555-867-5309", "555-867-5309"),
    ("my number is (212) 555-7788", "(212) 555-7788"),
    ("text +1 212 555 7788 after 6", "+1 212 555 7788"),
    ("it's 2125557788", "2125557788"),
    ("cell 312.555.2199.", "312.555.2199"),
    ("email me at jo.b+x@gmail.com", "jo.b+x@gmail.com"),
    ("write to jo at yahoo dot com", "jo at yahoo dot com"),
    ("my email is dmiller1987@hotmail.com", "dmiller1987@hotmail.com"),
    # --- several at once
    ("I'm Ana Ruiz, dob 5/5/1991, member id W555123456", "W555123456"),
    ("I'm Ana Ruiz, dob 5/5/1991, member id W555123456", "5/5/1991"),
    ("I'm Ana Ruiz, dob 5/5/1991, member id W555123456", "Ana Ruiz"),
    ("send help to 12 Oak Ln, call 773-555-2291", "12 Oak Ln"),
    ("send help to 12 Oak Ln, call 773-555-2291", "773-555-2291"),
]

# Ordinary admissions language that looks a little like the details above.
LOOK_ALIKES = [
    "i work 9-5 monday to friday",
    "3 days a week",
    "i've been drinking since 2019",
    "i'm 34 and i drink every day",
    "is there 1 more way to pay",
    "it's 20 minutes down the road",
    "i drive 20 miles to work",
    "my deductible is $1500",
    "i go to 12 step meetings",
    "the line is open 24/7",
    "court ordered treatment",
    "i need 30 days",
    "my son uses every day",
    "my wife drinks 6 beers a night",
    "do you take blue cross",
    "i'm 5 months sober",
    "detox takes 7-10 days",
    "from 2015 to 2019 i was clean",
    "can i start on 5/12",
    "i have court on the 5th",
    "my husband will drive me",
    "my kids are 5 and 7",
    "i make 45000 a year",
    "i take 2 pills a day",
    "i work 40 hours a week",
    "it's on the way home",
    "i'm in place",
    "my daughter needs help",
    "i'm free after 5 on weekdays",
    "call 833-820-2922",
    "will my insurance cover it",
    "i have medicaid",
    "my policy covers rehab",
    "what does iop mean",
    "my son is 17",
]


def test_the_table_has_at_least_a_hundred_details() -> None:
    assert len(TABLE) >= 100
    assert len({text for text, _ in TABLE}) >= 95


@pytest.mark.parametrize(("text", "detail"), TABLE)
def test_every_detail_is_found_and_redacted(text: str, detail: str) -> None:
    start = text.index(detail)
    end = start + len(detail)
    findings = pii.find(text)
    assert any(f.start <= start and end <= f.end for f in findings), (
        f"{detail!r} not found in {text!r}: {[(f.kind, f.text) for f in findings]}"
    )
    redacted = pii.redact(text, findings)
    assert detail not in redacted
    assert pii.find(redacted) == [], redacted


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_stay_clean(text: str) -> None:
    assert [(f.kind, f.text) for f in pii.find(text)] == []


def test_the_new_kinds_are_described_without_the_details() -> None:
    findings = pii.find("dob 3/14/87, member id W123456789, 12 Oak Ln")
    assert pii.describe(findings) == "a street address, a date and an ID number"
