"""The e2e test's "broken crisis training set" relabels crisis examples that only the intent
classifier recognises; check they are still training examples and still missed by the guard."""

from __future__ import annotations

import json
import subprocess

import pytest

from admissions.training import nludata
from tests.training.conftest import REPO
from tests.training.guard_misses import CLASSIFIER_ONLY_CRISIS

RASA_PY = REPO / ".venv" / "rasa" / "bin" / "python"


def test_they_are_crisis_training_examples() -> None:
    crisis = {
        t
        for b in nludata.load_blocks(REPO / "data" / "nlu")
        if b.intent == "crisis"
        for t in b.examples
    }
    assert set(CLASSIFIER_ONLY_CRISIS) <= crisis


@pytest.mark.skipif(
    not RASA_PY.exists() or not (REPO / "build/spacy/admissions_en/meta.json").exists(),
    reason="needs the assistant environment and the spaCy pipeline",
)
def test_the_rule_based_guard_does_not_catch_them() -> None:
    script = (
        "import json, sys\n"
        "from admissions import safety\n"
        "texts = json.loads(sys.argv[1])\n"
        "print(json.dumps([t for t in texts if safety.screen(t).signal is not None]))\n"
    )
    result = subprocess.run(
        [str(RASA_PY), "-c", script, json.dumps(CLASSIFIER_ONLY_CRISIS)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "SPACY_PIPELINE": str(REPO / "build/spacy/admissions_en"),
            "PATH": "/usr/bin:/bin",
            "TF_CPP_MIN_LOG_LEVEL": "3",
        },
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
