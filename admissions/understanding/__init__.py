"""Understanding what visitors write: the one place that reads text into facts.

Everything that turns a visitor's words into data lives in this package: the text cleaner
(``text``), the spaCy pipeline builder and its one pattern loader (``pipeline``, with the
pattern files under ``patterns/``), clock and day reading (``clock``), and the readers of
schedules (``schedule_reader``, in steps ``schedule_cues``, ``schedule_items``,
``schedule_segments``, ``schedule_spans``), caregiving, payment, yes/no answers, screening
answers and relative times.

Code outside the package imports from here only, never from a submodule (a test checks it):
the names below are the public entry points. Nothing here imports spaCy until a pipeline is
built, so the pure parts stay importable in either environment.
"""

from admissions.understanding.clock import DAY_END, DAY_START
from admissions.understanding.facts import (
    CARE_VALUES,
    Facts,
    default_pipeline,
    extract_facts,
    parse,
    to_first_person,
)
from admissions.understanding.pipeline import (
    PATTERN_DIR,
    PatternError,
    check_scalars,
    load_patterns,
    read_pattern_file,
)
from admissions.understanding.pipeline import (
    build as build_pipeline,
)
from admissions.understanding.relative import (
    care_away_picture,
    mentions_care_away,
    read_relative,
)
from admissions.understanding.screening import UNCLEAR, read_screening
from admissions.understanding.text import clean_text, sanitize, straighten

__all__ = [
    "CARE_VALUES",
    "DAY_END",
    "DAY_START",
    "PATTERN_DIR",
    "UNCLEAR",
    "Facts",
    "PatternError",
    "build_pipeline",
    "care_away_picture",
    "check_scalars",
    "clean_text",
    "default_pipeline",
    "extract_facts",
    "load_patterns",
    "mentions_care_away",
    "parse",
    "read_pattern_file",
    "read_relative",
    "read_screening",
    "sanitize",
    "straighten",
    "to_first_person",
]
