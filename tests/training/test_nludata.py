"""The round-trip writer: accepted examples land in the intent's block of ``data/nlu`` and
nothing else in any file changes (comments, order, quoting, other files byte-identical)."""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

import pytest
import yaml

from admissions.training import nludata
from admissions.training.nludata import DataWriter, ExampleProblem
from tests.training.conftest import REPO


def _writer(project: Path) -> DataWriter:
    return DataWriter(
        project / "data" / "nlu",
        project / "domain.yml",
        project / "tests" / "nlu",
        project / "var" / "data.lock",
    )


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.yml"))}


def test_appends_to_the_intent_block_and_changes_nothing_else(project: Path) -> None:
    nlu = project / "data" / "nlu"
    before = _snapshot(nlu)
    counts = nludata.intent_counts(nlu)
    result = _writer(project).append(
        "ask_cost", ["does medicaid pay for the evening program?", "what do u charge per week"]
    )
    assert result.file == nlu / "cost.yml"
    after = _snapshot(nlu)
    for name in before:
        if name != "cost.yml":
            assert after[name] == before[name], name
    old_lines = before["cost.yml"].decode().splitlines(keepends=True)
    new_lines = after["cost.yml"].decode().splitlines(keepends=True)
    added = [line for line in new_lines if line not in old_lines]
    assert added == [
        "    - does medicaid pay for the evening program?\n",
        "    - what do u charge per week\n",
    ]
    # every original line is still there, in order (comments included)
    it = iter(new_lines)
    assert all(any(line == other for other in it) for line in old_lines)
    assert [x for x in new_lines if x.lstrip().startswith("#")] == [
        x for x in old_lines if x.lstrip().startswith("#")
    ]
    new_counts = nludata.intent_counts(nlu)
    assert new_counts["ask_cost"] == counts["ask_cost"] + 2
    assert {k: v for k, v in new_counts.items() if k != "ask_cost"} == {
        k: v for k, v in counts.items() if k != "ask_cost"
    }
    data = yaml.safe_load((nlu / "cost.yml").read_text())
    block = next(b for b in data["nlu"] if b["intent"] == "ask_cost")
    assert block["examples"].endswith("- what do u charge per week\n")


def test_keeps_a_files_own_indentation(project: Path) -> None:
    nlu = project / "data" / "nlu"
    path = nlu / "cost.yml"
    text = path.read_text().replace("\n    - ", "\n      - ")  # 6-space examples
    path.write_text(text)
    _writer(project).append("ask_cost", ["is the evening program covered"])
    assert "\n      - is the evening program covered\n" in path.read_text()
    yaml.safe_load(path.read_text())


def test_crlf_files_stay_crlf(project: Path) -> None:
    path = project / "data" / "nlu" / "cost.yml"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    _writer(project).append("ask_cost", ["how much for iop"])
    raw = path.read_bytes()
    assert b"    - how much for iop\r\n" in raw
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_same_text_is_not_written_twice(project: Path) -> None:
    writer = _writer(project)
    first = writer.append("greet", ["hiya there friend"])
    second = writer.append("greet", ["Hiya  there FRIEND"])
    assert first.added == ("hiya there friend",)
    assert second.added == () and second.present == ("Hiya there FRIEND",)


def test_refuses_what_must_not_be_trained_on(project: Path) -> None:
    writer = _writer(project)
    heldout = yaml.safe_load((project / "tests" / "nlu" / "test_nlu.yml").read_text())
    heldout_text = heldout["nlu"][0]["examples"].splitlines()[0][2:]
    before = _snapshot(project / "data" / "nlu")
    with pytest.raises(ExampleProblem, match="held-out"):
        writer.append(heldout["nlu"][0]["intent"], [heldout_text])
    with pytest.raises(ExampleProblem, match="already a training example of 'greet'"):
        writer.append("crisis", ["hello"])
    with pytest.raises(ExampleProblem, match="not an intent"):
        writer.append("nlu_fallback", ["whatever this is"])
    with pytest.raises(ExampleProblem, match="not an intent"):
        writer.append("book_a_flight", ["book me a flight"])
    with pytest.raises(ExampleProblem, match="empty"):
        writer.append("greet", ["   "])
    with pytest.raises(ExampleProblem, match="payload"):
        writer.append("greet", ["/greet"])
    assert _snapshot(project / "data" / "nlu") == before


def test_text_is_made_safe_for_rasa(project: Path) -> None:
    result = _writer(project).append("ask_program_info", ["what is [IOP](program)\nexactly?\x00  "])
    assert result.added == ("what is (IOP)(program) exactly?",)
    blocks = nludata.load_blocks(project / "data" / "nlu")
    assert "what is (IOP)(program) exactly?" in [
        t for b in blocks if b.intent == "ask_program_info" for t in b.examples
    ]


def test_an_intent_without_examples_gets_its_own_file(project: Path) -> None:
    nlu = project / "data" / "nlu"
    for path in nlu.glob("*.yml"):  # take every thanks example out of the data
        data = yaml.safe_load(path.read_text())
        if any(b["intent"] == "thanks" for b in data["nlu"]):
            lines, skip = [], False
            for line in path.read_text().splitlines(keepends=True):
                if line.startswith("- intent: thanks"):
                    skip = True
                elif line.startswith("- intent:"):
                    skip = False
                if not skip:
                    lines.append(line)
            path.write_text("".join(lines))
    assert "thanks" not in nludata.intent_counts(nlu)
    result = _writer(project).append("thanks", ["cheers mate"])
    assert result.file == nlu / nludata.NEW_INTENTS_FILE
    assert nludata.intent_counts(nlu)["thanks"] == 1
    _writer(project).append("thanks", ["many thanks"])
    assert nludata.intent_counts(nlu)["thanks"] == 2


def test_concurrent_writers_lose_nothing(project: Path) -> None:
    writer = _writer(project)
    texts = [f"how much does week {i} cost" for i in range(20)]
    threads = [threading.Thread(target=writer.append, args=("ask_cost", [t])) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    examples = {
        t
        for b in nludata.load_blocks(project / "data" / "nlu")
        if b.intent == "ask_cost"
        for t in b.examples
    }
    assert set(texts) <= examples


RASA = REPO / ".venv" / "rasa" / "bin" / "rasa"


@pytest.mark.skipif(not RASA.exists(), reason="the assistant environment is not installed")
def test_rasa_data_validate_passes_after_writes(project: Path) -> None:
    writer = _writer(project)
    writer.append("ask_cost", ["does medicaid pay for the evening program?"])
    writer.append("out_of_scope", ["what's the best pizza place near you"])
    writer.append("request_callback", ["could somebody ring me back later tonight"])
    shutil.copyfile(REPO / "config.yml", project / "config.yml")
    result = subprocess.run(
        [
            str(RASA),
            "data",
            "validate",
            "--data",
            str(project / "data"),
            "--domain",
            str(project / "domain.yml"),
            "--config",
            str(project / "config.yml"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={
            "PATH": "/usr/bin:/bin",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "RASA_TELEMETRY_ENABLED": "false",
            "HOME": str(project),
        },
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
