"""What personal details look like to the PII detector (``pii``): the regular expressions for
phone numbers, email addresses, ID numbers, dates, street addresses and name introductions,
and the ordinary words that are not street names or names. Data only."""

from __future__ import annotations

import re

PHONE = re.compile(r"(?<![\w+(])\+?\(?\d(?:[ \t().\-]{0,2}\d){6,14}(?![\w])")
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
EMAIL_SPELLED = re.compile(
    r"\b[\w.+-]+\s*(?:\(at\)|\[at\]|\bat\b)\s*[A-Za-z0-9-]+\s*(?:\(dot\)|\[dot\]|\bdot\b|\.)\s*"
    r"(?:com|net|org|edu|gov|us|io|co)\b",
    re.IGNORECASE,
)
WORD = r"[A-Za-z][A-Za-z'’\-]*"
INTRO = re.compile(
    r"\b(?:my\s+name\s+is|my\s+name's|my\s+names|name\s+is|i\s+am\s+called|i'm\s+called|"
    r"im\s+called|call\s+me|ask\s+for|this\s+is|it's|its|i\s+am|i'm|im)\s+(" + WORD + r")",
    re.IGNORECASE,
)
# Introductions that name whatever follows; the rest ("this is", "i'm") need a listed name or
# a capitalised word.
STRONG_INTRO = re.compile(
    r"^(?:my\s+name\s+is|my\s+name's|my\s+names|name\s+is|i\s+am\s+called|i'm\s+called|"
    r"im\s+called)$",
    re.IGNORECASE,
)
TITLE = re.compile(
    r"\b(?:dr|mr|mrs|ms|miss|mx|doctor|nurse|pastor|father|officer)\.?\s+(" + WORD + r")",
    re.IGNORECASE,
)
RELATIONS = (
    "son|daughter|husband|wife|boyfriend|girlfriend|partner|fiance|fiancee|brother|sister|"
    "mom|mum|mother|dad|father|friend|kid|child|uncle|aunt|cousin|nephew|niece|grandson|"
    "granddaughter|grandma|grandpa|stepson|stepdaughter|roommate|boss|counselor|doctor|sponsor"
)
RELATION = re.compile(
    r"\bmy\s+(?:" + RELATIONS + r")(?:'s)?(?:\s+name)?(?:\s*,)?\s+"
    r"(?:is\s+(?:named\s+|called\s+)?|named\s+|called\s+)?"
    r"(" + WORD + r")",
    re.IGNORECASE,
)
STRONG_RELATION = re.compile(r"(?:named|called|name\s+is|name's)\s*$", re.IGNORECASE)

# ----- ID numbers
ID_TOKEN = re.compile(r"(?<![\w@.\-])[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*(?![\w@\-])")
# capital letters, or letters joined to the digits ("ZGP 8849 2201", "w1234 5678"); never a
# word before a phone number ("at 555-867-5309")
ID_GROUPED = re.compile(
    r"(?<![\w@.\-])(?:[A-Z]{1,4}[ \-]?|[A-Za-z]{1,4})\d{2,}(?:[ \-]\d{2,}){1,4}(?![\w@\-])"
)
SSN = re.compile(r"(?<![\w\-])\d{3}-\d{2}-\d{4}(?![\w\-])")
ID_CUE = re.compile(
    r"\b(?:member|policy|subscriber|group|medicaid|medicare|insurance|account|case|client|"
    r"patient|ssn|social(?:\s+security)?|id|i\.d\.)(?:\s+(?:id|i\.d\.|number|no\.?|num|#))?"
    r"(?:\s+is|\s*:|\s*#)?\s+#?(\d[\d \-]{2,}\d)(?![\w\-])",
    re.IGNORECASE,
)

# ----- dates
MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
DAY = r"(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?"
YEAR = r"(?:19|20)\d{2}"
NUMERIC_DAY_MONTH = r"(?:0?[1-9]|1[0-2])[/.\-](?:0?[1-9]|[12]\d|3[01])"
DATE = re.compile(
    rf"(?<![\w/.\-])(?:{NUMERIC_DAY_MONTH}[/.\-](?:{YEAR}|\d{{2}})"
    rf"|{YEAR}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
    rf"|{MONTH}\s+{DAY},?\s+{YEAR}"
    rf"|{DAY}\s+(?:of\s+)?{MONTH},?\s+{YEAR})(?![\w/\-])",
    re.IGNORECASE,
)
BIRTH = re.compile(
    r"\b(?:born(?:\s+on|\s+in)?|birth\s?day(?:\s+is)?|b-?day(?:\s+is)?|dob|d\.o\.b\.?|"
    r"date\s+of\s+birth(?:\s+is)?)\s*:?\s*"
    rf"({NUMERIC_DAY_MONTH}(?:[/.\-]\d{{2,4}})?|{MONTH}\s+{DAY}(?:,?\s+{YEAR})?"
    rf"|{DAY}\s+(?:of\s+)?{MONTH}(?:,?\s+{YEAR})?|{YEAR})(?![\w/\-])",
    re.IGNORECASE,
)

# ----- street addresses
STREET_ANY_CASE = (
    "street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|parkway|pkwy|highway|hwy|terrace"
)
STREET_CAPITALISED = "drive|dr|court|ct|way|place|pl|circle|cir|trail|trl|square|sq"
ADDRESS_NUMBERED = re.compile(
    r"(?<![\w.\-/])\d{1,6}[A-Za-z]?\s+(?:[NSEW]\.?\s+|(?:north|south|east|west)\s+)?"
    r"((?:[A-Za-z0-9'’]+\.?\s+){1,3}?)"
    rf"({STREET_ANY_CASE}|{STREET_CAPITALISED})\b\.?"
    r"(?:,?\s+(?:apt|apartment|unit|suite|ste)\.?\s*#?[A-Za-z0-9\-]+|\s*#\s*[A-Za-z0-9\-]+)?",
    re.IGNORECASE,
)
ADDRESS_NAMED = re.compile(
    r"\b((?:[A-Z][a-z]+\s+){1,2})"
    r"(?:Street|Avenue|Road|Boulevard|Lane|Drive|Court|Parkway|Highway|St|Ave|Rd|Blvd)\b\.?"
)
PO_BOX = re.compile(r"\bp\.?\s?o\.?\s+box\s+\d+\b", re.IGNORECASE)
STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|"
    "NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY"
)
ZIP = re.compile(
    rf"(?:(?<![A-Za-z])(?:{STATES})\s+|\bzip(?:\s*code)?(?:\s+is)?\s*:?\s*)"
    r"\d{5}(?:-\d{4})?(?!\d)",
)
ZIP_CUE = re.compile(r"\bzip(?:\s*code)?(?:\s+is)?\s*:?\s*\d{5}(?:-\d{4})?(?!\d)", re.IGNORECASE)
# Words that sit between a number and "road" / "street" in ordinary sentences.
NOT_STREET_NAMES = frozenset(
    """
    days day times time hours hour weeks week months month years year minutes beers drinks
    shots pills kids people nights night mornings blocks down miles drive ride walk
    """.split()
)
NAMED_STREET_SKIP = frozenset(
    "the a an my our your his her their this that on at in to of i and or".split()
)

# Words that follow an introduction but are not names ("I'm not sure", "this is hard").
NOT_NAMES = frozenset(
    """
    a an the not no so very really just here there that this it is was be been being and or but
    if of to in on at for from with about by as up out over under again still also too only
    now then soon later today tonight tomorrow yesterday sure fine ok okay good bad well sick
    tired scared afraid worried ready going trying looking calling asking wondering thinking
    feeling having getting doing being working drinking using struggling clean sober sorry
    sad alone lost done hard difficult tough embarrassed ashamed confused anonymous private
    unsure nervous desperate stuck broke homeless pregnant married single divorced older young
    new old hurting drunk high safe fine glad happy interested available free busy off on
    her his he she him they them their we us you your yours mine me my i im it's its who what
    when where why how which someone somebody anyone anybody nobody everyone everything nothing
    something worse better best worst more less most least very pretty kind bit little much
    many few some any all both each every other another same different
    monday tuesday wednesday thursday friday saturday sunday january february march april may
    june july august september october november december christmas easter thanksgiving
    god jesus lord christ catholic christian jewish muslim american canadian mexican medicaid
    medicare aetna cigna humana tricare kaiser blue cross shield unitedhealthcare anthem
    """.split()
)
