"""Held-out metrics as the gate reads them, from files in the format `rasa test nlu` writes."""

from __future__ import annotations

import json
from pathlib import Path

from admissions.training.evaluate import heldout_metrics


def _write(out: Path) -> None:
    report = {
        "goodbye": {"precision": 1.0, "recall": 0.8, "f1-score": 0.889, "support": 5},
        "greet": {"precision": 0.833, "recall": 1.0, "f1-score": 0.909, "support": 5},
        "deny": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 4},
        "accuracy": 0.93,
        "macro avg": {"precision": 0.9, "recall": 0.9, "f1-score": 0.93, "support": 14},
    }
    errors = [
        {
            "text": "gotta run",
            "intent": "goodbye",
            "intent_prediction": {"name": "greet", "confidence": 0.6},
        }
    ]
    (out / "intent_report.json").write_text(json.dumps(report))
    (out / "intent_errors.json").write_text(json.dumps(errors))


def test_each_wrong_message_counts_against_both_intents_it_involves(tmp_path: Path) -> None:
    _write(tmp_path)
    per = heldout_metrics(tmp_path)["per_intent"]
    # "gotta run" is a goodbye the model missed and a greet it predicted wrongly.
    assert per["goodbye"]["errors"] == 1
    assert per["greet"]["errors"] == 1
    assert per["deny"]["errors"] == 0


def test_macro_f1_is_the_mean_over_intents_with_examples(tmp_path: Path) -> None:
    _write(tmp_path)
    m = heldout_metrics(tmp_path)
    assert m["examples"] == 14
    assert abs(m["macro_f1"] - (0.889 + 0.909 + 1.0) / 3) < 1e-3
