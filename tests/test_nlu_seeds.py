"""`make eval-seeds`: the seed goes only to DIET, and the report counts seeds that meet the target."""

from __future__ import annotations

from pathlib import Path

import yaml

from benchmarks.nlu_seeds import config_with_seed, markdown, summarise

ROOT = Path(__file__).resolve().parents[1]


def test_only_diets_seed_changes_in_the_projects_config() -> None:
    config = (ROOT / "config.yml").read_text()
    changed = yaml.safe_load(config_with_seed(config, 7))
    original = yaml.safe_load(config)
    diet = next(c for c in changed["pipeline"] if c["name"] == "DIETClassifier")
    ted = next(p for p in changed["policies"] if p["name"] == "TEDPolicy")
    assert diet["random_seed"] == 7
    assert ted == next(p for p in original["policies"] if p["name"] == "TEDPolicy")
    assert [c for c in changed["pipeline"] if c["name"] != "DIETClassifier"] == [
        c for c in original["pipeline"] if c["name"] != "DIETClassifier"
    ]


def run(seed: int, goodbye: float, errors: list[str]) -> dict:
    return {
        "seed": seed,
        "train_seconds": 120,
        "macro_f1": 0.97,
        "per_intent": {"goodbye": goodbye, "greet": 1.0},
        "errors": [{"intent": "goodbye", "predicted": "greet", "text": t} for t in errors],
    }


def test_the_report_shows_the_spread_and_what_is_wrong_in_most_seeds() -> None:
    runs = [run(42, 0.93, ["later then"]), run(1, 0.88, ["later then", "cya"]), run(2, 0.95, [])]
    summary = summarise(runs)
    assert summary["seeds_with_every_intent_at_target"] == 2
    assert summary["lowest_f1_per_intent"] == {"goodbye": 0.88, "greet": 1.0}
    assert [e["text"] for e in summary["wrong_in_most_seeds"]] == ["later then"]
    report = markdown(summary, runs)
    assert "2 of 3 seeds have every intent at F1 >= 0.90" in report
    assert "goodbye → greet (2×): later then" in report
    assert "never copy these lines into data/nlu" in report
