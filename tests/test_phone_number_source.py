"""The admissions number is written in one place: ``facility.yml`` (tests keep their own copies).

A center that changes its number edits one line; a copy anywhere else would go stale and a
visitor would be told a number nobody answers.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# Files that may still spell the number out, each with why (empty is the goal).
NOT_YET_MOVED: set[str] = set()  # files still to be moved onto facility.yml (none)


def number_pattern(phone: str) -> re.Pattern[str]:
    """Every common spelling of a 10-digit US number: 833-820-2922, (833) 820-2922,
    833.820.2922, 833 820 2922, 8338202922, +18338202922, 1-833-820-2922."""
    digits = re.sub(r"\D", "", phone)[-10:]
    area, exchange, line = digits[:3], digits[3:6], digits[6:]
    sep = r"[-. \u2011\u2013]?"
    return re.compile(rf"(?<!\d)(?:\+?1{sep})?\(?{area}\)?{sep}{exchange}{sep}{line}(?!\d)")


def tracked_files() -> list[str]:
    """Files git tracks, and new files not ignored (the tree as it would be committed)."""
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sorted({name for name in out.split("\0") if name})


def test_the_pattern_knows_the_common_spellings() -> None:
    """The check would catch the number however it is written."""
    pattern = number_pattern("833-820-2922")
    for spelling in (
        "833-820-2922",
        "8338202922",
        "(833) 820-2922",
        "+18338202922",
        "tel:+18338202922",
        "1-833-820-2922",
        "833.820.2922",
        "833 820 2922",
    ):
        assert pattern.search(f"call {spelling} now"), spelling
    assert not pattern.search("18338202922123")
    assert not pattern.search("212-555-0187")


def test_the_admissions_number_is_only_in_facility_yml() -> None:
    """No tracked file outside facility.yml and tests/ spells out the admissions number."""
    facility = yaml.safe_load((ROOT / "facility.yml").read_text(encoding="utf-8"))
    pattern = number_pattern(facility["admissions"]["phone"])
    found = []
    for name in tracked_files():
        if name == "facility.yml" or name.startswith("tests/") or name in NOT_YET_MOVED:
            continue
        path = ROOT / name
        if not path.is_file():
            continue  # deleted in the work tree
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary (images, models)
        for n, text in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            if pattern.search(text):
                found.append(f"{name}:{n}: {text.strip()[:100]}")
    assert found == [], "the admissions number is written outside facility.yml:\n" + "\n".join(
        found
    )
