"""Evaluate a model archive with Rasa's own test functions: the held-out NLU set, the crisis
tables and the test stories (one Rasa process, ``rasa_eval``, loads the model once).

* Held-out set (``tests/nlu``): ``rasa test nlu`` → per-intent precision/recall/F1, macro-F1
  (the mean F1 of the intents that have test examples; a fallback counts as a miss, never as
  a class of its own) and the confusion-matrix image.
* Crisis: every ``positive`` of ``tests/admissions/crisis_cases.yml`` must come out as
  ``crisis`` (recall), the ``negative`` ones measure false alarms; and the *protected crisis
  examples* — the messages labelled ``crisis`` in the data the live model was trained on — are
  classified too, so a training set that relabels or drops crisis messages is caught even
  where the deterministic crisis guard would not notice.
* Test stories (``tests/stories``): ``rasa test core``; every story must pass.

The result (``Metrics``) is a JSON-ready dict stored with the model in the history.
"""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
from pathlib import Path
from typing import Any

from admissions.training import files, rasacli
from admissions.training.files import read_yaml
from admissions.training.nludata import clean_example
from admissions.training.rasa_process import serving_pids
from admissions.training.settings import TrainingSettings

EVAL_VERSION = 1
Metrics = dict[str, Any]
CRISIS = "crisis"
NOT_CRISIS = "zz_not_crisis"  # a label no model has: negatives are "errors" unless crisis


class EvaluationError(RuntimeError):
    """An evaluation command failed (not a bad score: the command itself)."""


def fingerprint(settings: TrainingSettings, protected: list[str]) -> str:
    """What an evaluation depends on besides the model: test sets, tables, protected examples."""
    digest = hashlib.sha256()
    digest.update(f"v{EVAL_VERSION}\0".encode())
    digest.update(
        files.digest([settings.heldout_dir, settings.stories_dir, settings.crisis_cases]).encode()
    )
    digest.update(json.dumps(sorted(protected)).encode())
    return digest.hexdigest()


def crisis_cases(path: Path) -> tuple[list[str], list[str]]:
    """(positive texts, negative texts) of the crisis tables."""
    data = read_yaml(path.read_text(encoding="utf-8")) or {}
    positives = [str(c["text"]) for c in data.get("positive") or [] if isinstance(c, dict)]
    negatives = [str(t) for t in data.get("negative") or []]
    return positives, negatives


def _clean(text: str) -> str:
    try:
        return clean_example(text)
    except ValueError:
        return " ".join(text.split())


def write_crisis_test_file(
    path: Path, positives: list[str], negatives: list[str], protected: list[str]
) -> dict[str, str]:
    """Write the crisis checks as Rasa NLU test data; returns text -> expected label."""
    labels: dict[str, str] = {}
    for text in negatives:
        labels[_clean(text)] = NOT_CRISIS
    for text in [*positives, *protected]:
        labels[_clean(text)] = CRISIS  # crisis wins if a text is in both
    lines = ['version: "3.1"', "nlu:"]
    for label in (CRISIS, NOT_CRISIS):
        texts = [t for t, lab in labels.items() if lab == label and t]
        if texts:
            lines += [f"- intent: {label}", "  examples: |", *(f"    - {t}" for t in texts)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return labels


def _predictions(out: Path) -> dict[str, str]:
    predicted: dict[str, str] = {}
    for name in ("intent_successes.json", "intent_errors.json"):
        file = out / name
        if not file.exists():
            continue
        for row in json.loads(file.read_text(encoding="utf-8")):
            prediction = row.get("intent_prediction") or {}
            predicted[str(row.get("text"))] = str(prediction.get("name"))
    return predicted


def heldout_metrics(out: Path) -> dict[str, Any]:
    """Summarise ``intent_report.json`` of ``rasa test nlu``."""
    report = json.loads((out / "intent_report.json").read_text(encoding="utf-8"))
    per_intent = {
        name: {
            "precision": round(float(v["precision"]), 4),
            "recall": round(float(v["recall"]), 4),
            "f1": round(float(v["f1-score"]), 4),
            "support": int(v["support"]),
        }
        for name, v in report.items()
        if isinstance(v, dict)
        and "support" in v
        and name not in ("macro avg", "weighted avg", "micro avg")
    }
    # Held-out messages each intent gets wrong: its own examples predicted as something else
    # plus other intents' examples predicted as it. The gate uses the change in this count to
    # tell a real drop from one message flipping (see gate.py).
    errors_file = out / "intent_errors.json"
    errors = json.loads(errors_file.read_text(encoding="utf-8")) if errors_file.exists() else []
    for row in errors:
        truth = str(row.get("intent"))
        guess = str((row.get("intent_prediction") or {}).get("name"))
        for name in (truth, guess):
            if name in per_intent:
                per_intent[name]["errors"] = per_intent[name].get("errors", 0) + 1
    for v in per_intent.values():
        v.setdefault("errors", 0)
    scored = [v["f1"] for v in per_intent.values() if v["support"] > 0]
    return {
        "examples": sum(v["support"] for v in per_intent.values()),
        "accuracy": round(float(report.get("accuracy", 0.0)), 4)
        if isinstance(report.get("accuracy"), (int, float))
        else None,
        "macro_f1": round(sum(scored) / len(scored), 4) if scored else 0.0,
        "rasa_macro_f1": round(float(report.get("macro avg", {}).get("f1-score", 0.0)), 4),
        "per_intent": {k: v for k, v in per_intent.items() if v["support"] > 0},
        "confusion_matrix": str(out / "intent_confusion_matrix.png"),
    }


def story_metrics(out: Path) -> dict[str, Any]:
    """Summarise ``rasa test core`` output: how many test stories passed, which failed."""
    report_file = out / "story_report.json"
    report = json.loads(report_file.read_text(encoding="utf-8")) if report_file.exists() else {}
    conv = report.get("conversation_accuracy") or {}
    failed_file = out / "failed_test_stories.yml"
    failed: list[str] = []
    if failed_file.exists():
        failed = re.findall(r"^- story:\s*(.+?)\s*$", failed_file.read_text(encoding="utf-8"), re.M)
    total = int(conv.get("total", 0))
    correct = int(conv.get("correct", total - len(failed)))
    return {"total": total, "passed": correct, "failed": failed}


def dialogue_digest(model: Path) -> str:
    """SHA-256 over the parts of a model archive that decide its dialogue: the policies'
    files and the domain. Two models with the same digest predict the same next actions
    for the same intents, so intent-level test stories give the same result on both."""
    digest = hashlib.sha256()
    with tarfile.open(model, "r:gz") as archive:
        members = sorted(
            (m for m in archive.getmembers() if m.isfile()), key=lambda m: m.name.lstrip("/")
        )
        for member in members:
            name = member.name.lstrip("/")
            parts = name.split("/")
            if len(parts) < 3 or parts[0] != "components":
                continue
            if not (_is_policy_node(parts[1]) or parts[1] == "domain_provider"):
                continue
            handle = archive.extractfile(member)
            digest.update(name.encode() + b"\0" + (handle.read() if handle else b"") + b"\0")
    return digest.hexdigest()


def _is_policy_node(node: str) -> bool:
    return node.startswith("train_") and "Policy" in node


def rasa_python(settings: TrainingSettings) -> Path:
    """The assistant environment's Python (beside its ``rasa`` command)."""
    return settings.rasa_bin.with_name("python")


def evaluate(
    settings: TrainingSettings,
    model: Path,
    out: Path,
    protected: list[str],
    *,
    stories: bool = True,
) -> Metrics:
    """Run the evaluations of ``model`` and summarise them.

    One Rasa process (``rasa_eval``) loads the model once and runs the held-out set, the
    crisis checks and (``stories``) the test stories with Rasa's own ``rasa test`` functions,
    at low CPU priority with few TensorFlow threads. ``stories=False`` leaves out the test
    stories (the caller carries over a result for the same dialogue model); ``"stories"`` is
    then None.
    """
    out.mkdir(parents=True, exist_ok=True)
    positives, negatives = crisis_cases(settings.crisis_cases)
    crisis_file = out / "crisis_cases.yml"
    labels = write_crisis_test_file(crisis_file, positives, negatives, protected)
    spec = _write_spec(settings, model, out, crisis_file, stories)
    result = _run_rasa_eval(settings, spec, out)
    try:
        seconds = json.loads(spec.with_suffix(".result.json").read_text())["seconds"]
    except (OSError, ValueError, KeyError):
        seconds = {}
    seconds["total"] = round(result.seconds, 1)
    seconds["paused_for_chat"] = result.paused_seconds
    return {
        "version": EVAL_VERSION,
        "fingerprint": fingerprint(settings, protected),
        "heldout": heldout_metrics(out / "heldout"),
        "crisis": crisis_metrics(out / "crisis", positives, protected, labels),
        "stories": story_metrics(out / "stories") if stories else None,
        "seconds": seconds,
        "peak_rss_kb": result.peak_rss_kb,
    }


def _write_spec(
    settings: TrainingSettings, model: Path, out: Path, crisis_file: Path, stories: bool
) -> Path:
    """The jobs file ``rasa_eval`` reads: held-out set, crisis checks, (``stories``) stories."""
    jobs: list[dict[str, Any]] = [
        {"name": "heldout", "kind": "nlu", "data": str(settings.heldout_dir)},
        # its plots are never shown: skip them (matplotlib takes longer than the predictions)
        {
            "name": "crisis",
            "kind": "nlu",
            "data": str(crisis_file),
            "successes": True,
            "plot": False,
        },
    ]
    if stories:
        jobs.append({"name": "stories", "kind": "core", "data": str(settings.stories_dir)})
    for job in jobs:
        job["out"] = str(out / job["name"])
    spec = out / "evaluate.json"
    spec.write_text(json.dumps({"model": str(model), "jobs": jobs}, indent=1), encoding="utf-8")
    return spec


def _run_rasa_eval(settings: TrainingSettings, spec: Path, out: Path) -> rasacli.CommandResult:
    """``rasa_eval`` in the assistant environment, niced, giving way to chat turns."""
    env = rasacli.rasa_env(settings.rasa_env)
    env.update(rasacli.thread_limits(settings.tf_threads))
    result = rasacli.run(
        rasacli.niced(
            [str(rasa_python(settings)), "-m", "admissions.training.rasa_eval", str(spec)],
            settings.nice,
        ),
        cwd=settings.project,
        log=out / "evaluate.log",
        env=env,
        timeout=settings.step_timeout_seconds,
        nice=settings.nice,
        yield_to=(lambda: serving_pids(settings.serving_file)) if settings.nice > 0 else None,
    )
    if not result.ok:
        raise EvaluationError(
            f"`rasa test` failed with exit status {result.returncode}"
            + (" (timed out)" if result.timed_out else "")
            + f":\n{result.tail(25)}"
        )
    return result


def crisis_metrics(
    out: Path, positives: list[str], protected: list[str], labels: dict[str, str]
) -> dict[str, Any]:
    """Summarise the crisis checks' predictions (``out``): recall on the tables' positives,
    protected examples missed, false alarms on the negatives."""
    predicted = _predictions(out)
    clean_positives = {_clean(t) for t in positives}
    clean_protected = {_clean(t) for t in protected}
    missed_table = sorted(t for t in clean_positives if predicted.get(t) != CRISIS)
    missed_protected = sorted(t for t in clean_protected if predicted.get(t) != CRISIS)
    alarms = [t for t, lab in labels.items() if lab == NOT_CRISIS and predicted.get(t) == CRISIS]
    n_neg = sum(1 for lab in labels.values() if lab == NOT_CRISIS)
    return {
        "positives": len(clean_positives),
        "recall": round(1 - len(missed_table) / len(clean_positives), 4)
        if clean_positives
        else 1.0,
        "missed": missed_table,
        "protected": len(clean_protected),
        "protected_missed": missed_protected,
        "negatives": n_neg,
        "false_alarms": len(alarms),
        "false_alarm_rate": round(len(alarms) / n_neg, 4) if n_neg else 0.0,
    }
