"""`make test`'s plan (scripts/test_plan.py) on a throw-away Makefile: stages wait for what they
need, run side by side, and the first failure stops the plan with its log shown."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "test_plan.py"

MAKEFILE = """\
slow:
\t@sleep 1; echo slow done; date +%s.%N > slow.end
slow2:
\t@sleep 1; date +%s.%N > slow2.end
fast:
\t@date +%s.%N > fast.start; echo fast done
after-slow:
\t@date +%s.%N > after.start; echo after done
broken:
\t@echo something went wrong here; exit 3
never:
\t@touch never.ran
"""


def plan(tmp: Path, *args: str, rules: str = "") -> subprocess.CompletedProcess[str]:
    """The plan over MAKEFILE plus ``rules`` (more targets), in ``tmp``."""
    (tmp / "Makefile").write_text(MAKEFILE + rules)
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--logs", str(tmp / "logs"), *args],
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=60,
    )


def stamp(tmp: Path, name: str) -> float:
    return float((tmp / name).read_text())


def test_stages_run_side_by_side_and_wait_for_what_they_need(tmp_path: Path) -> None:
    result = plan(tmp_path, "--jobs", "2", "slow", "fast", "after-slow:slow")
    assert result.returncode == 0, result.stdout + result.stderr
    # fast ran while slow was running; after-slow only once slow had ended
    assert stamp(tmp_path, "fast.start") < stamp(tmp_path, "slow.end")
    assert stamp(tmp_path, "after.start") >= stamp(tmp_path, "slow.end")
    table = result.stdout.split("==> stage times")[1]
    for name in ("slow", "fast", "after-slow"):
        assert f"{name} " in table
    assert "total (wall)" in table and "FAILED" not in table
    assert (tmp_path / "logs" / "slow.log").read_text().strip() == "slow done"


def test_the_first_failure_stops_the_plan_and_shows_its_log(tmp_path: Path) -> None:
    result = plan(tmp_path, "--jobs", "2", "broken", "never:broken")
    assert result.returncode == 1
    assert not (tmp_path / "never.ran").exists()
    assert "something went wrong here" in result.stdout  # the failed stage's log, printed
    table = result.stdout.split("==> stage times")[1]
    assert "broken" in table and "FAILED" in table
    assert "not run" in table


def test_one_at_a_time_shows_the_output_as_it_comes(tmp_path: Path) -> None:
    result = plan(tmp_path, "--jobs", "1", "fast", "slow")
    assert result.returncode == 0
    assert "fast done" in result.stdout.split("==> stage times")[0]


def test_a_stage_needing_one_not_in_the_plan_is_refused(tmp_path: Path) -> None:
    result = plan(tmp_path, "fast:nowhere")
    assert result.returncode != 0
    assert "nowhere" in result.stderr


def test_a_stage_that_ignores_the_stop_is_stopped_harder(tmp_path: Path) -> None:
    stubborn = "stubborn:\n\t@trap '' INT; sleep 60; touch stubborn.finished\n"
    started = time.monotonic()
    result = plan(tmp_path, "--grace", "1", "--jobs", "2", "stubborn", "broken", rules=stubborn)
    assert result.returncode == 1
    assert time.monotonic() - started < 30
    assert not (tmp_path / "stubborn.finished").exists()
    assert "stopped" in result.stdout.split("==> stage times")[1]


def test_stages_beside_an_urgent_one_run_at_lower_priority(tmp_path: Path) -> None:
    rules = "niceness:\n\t@nice > niceness.value\nurgent:\n\t@sleep 1; nice > urgent.value\n"
    result = plan(tmp_path, "--jobs", "2", "--urgent", "urgent", "urgent", "niceness", rules=rules)
    assert result.returncode == 0, result.stdout + result.stderr
    base = int(subprocess.run(["nice"], capture_output=True, text=True).stdout)
    assert int((tmp_path / "urgent.value").read_text()) == base
    assert int((tmp_path / "niceness.value").read_text()) == min(base + 10, 19)


def first_slow_end(tmp: Path) -> float:
    return min(stamp(tmp, "slow.end"), stamp(tmp, "slow2.end"))


def test_a_light_stage_runs_beside_the_others_without_a_slot(tmp_path: Path) -> None:
    """Two slots, both held by slow stages listed first: the light stage still starts at once;
    without --light it waits for a slot."""
    stages = ("slow", "slow2", "fast")
    result = plan(tmp_path, "--jobs", "2", "--light", "fast", *stages)
    assert result.returncode == 0, result.stdout + result.stderr
    assert stamp(tmp_path, "fast.start") < first_slow_end(tmp_path)
    result = plan(tmp_path, "--jobs", "2", *stages)
    assert result.returncode == 0, result.stdout + result.stderr
    assert stamp(tmp_path, "fast.start") >= first_slow_end(tmp_path)
