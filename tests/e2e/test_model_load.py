"""The project's model loaded the fast way (``rasa_addons.model_load``, which every Rasa server
of this project uses) understands and answers exactly as when Rasa loads it its own way."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "admissions.tar.gz"

# Held-out sentences and one conversation: confidences compared to the last digit.
PROBE = r"""
import asyncio, json, sys, time
import yaml
if sys.argv[1] == "fast":
    from rasa_addons import model_load
    model_load.install()
from rasa.core.agent import Agent
started = time.process_time()
agent = Agent.load(sys.argv[2])
seconds = time.process_time() - started
examples = yaml.safe_load(open(sys.argv[3]))["nlu"]
texts = [
    line[2:].strip()
    for item in examples
    for line in str(item.get("examples", "")).splitlines()
    if line.strip().startswith("- ")
][:150]

async def probe():
    out = []
    for text in texts:
        parsed = await agent.parse_message(text)
        out.append([(i["name"], repr(i["confidence"])) for i in parsed["intent_ranking"][:5]])
    for text in ["hi", "I want help to stop drinking", "i have aetna", "what does it cost"]:
        out.append([m.get("text") for m in await agent.handle_text(text, sender_id="probe")])
    return out

print(json.dumps({"cpu_seconds": seconds, "out": asyncio.run(probe())}))
"""


def _load(way: str) -> dict:
    env = {
        **os.environ,
        "FACILITY_FILE": str(ROOT / "facility.yml"),
        "SPACY_PIPELINE": str(ROOT / "build" / "spacy" / "admissions_en"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "RASA_TELEMETRY_ENABLED": "false",
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE, way, str(MODEL), str(ROOT / "tests/nlu/test_nlu.yml")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not MODEL.exists(), reason="needs a trained model (make train)")
def test_the_fast_load_predicts_exactly_what_rasas_own_load_predicts() -> None:
    rasa_way, fast_way = _load("rasa"), _load("fast")
    assert len(fast_way["out"]) == 154
    assert fast_way["out"] == rasa_way["out"]
    print(
        f"\nload CPU: Rasa's {rasa_way['cpu_seconds']:.1f} s, fast {fast_way['cpu_seconds']:.1f} s"
    )
