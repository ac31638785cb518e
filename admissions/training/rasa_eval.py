"""Evaluate one model on several test sets in a single Rasa process.

This module imports ``rasa``, which the staff app's environment (.venv/app) does not have. It
lives in the app's package only because ``evaluate.py`` writes its spec and starts it; it is
run as a subprocess by the assistant environment's Python (.venv/rasa) and never imported by
the app:

    .venv/rasa/bin/python -m admissions.training.rasa_eval SPEC.json

``SPEC.json``: ``{"model": path, "jobs": [{"name", "kind": "nlu"|"core", "data", "out",
"successes": bool, "plot": bool}]}``. Each job calls the same Rasa function as ``rasa test nlu``
(``rasa.nlu.test.run_evaluation``) or ``rasa test core --no-plot`` (``rasa.core.test.test``)
with the same options, so the reports are the ones those commands write; but TensorFlow is
imported and the model loaded **once** instead of once per command (two or three processes of
~15 s start-up each that competed with the serving Rasa for the CPU). The seconds of each job
go to ``<SPEC>.result.json``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any


async def _run(spec: dict[str, Any]) -> dict[str, float]:
    from rasa.core.agent import Agent  # type: ignore[import-not-found]
    from rasa.core.test import test as core_test  # type: ignore[import-not-found]
    from rasa.nlu.test import run_evaluation  # type: ignore[import-not-found]
    from rasa.utils.log_utils import configure_structlog  # type: ignore[import-not-found]

    # Unconfigured, Rasa's structured log prints every DEBUG line (each test sentence) to
    # stdout, i.e. into evaluate.log; `rasa test` configures it, direct calls must.
    configure_structlog(logging.WARNING)
    # The model loads as the serving Rasa loads it (no traced training step: ~5 s less CPU per
    # evaluation; rasa_addons/model_load.py, which checks it is Rasa 3.6.21's load it repeats).
    from rasa_addons import model_load

    model_load.install()

    started = time.monotonic()
    agent = Agent.load(model_path=spec["model"])
    seconds = {"load": round(time.monotonic() - started, 1)}
    for job in spec["jobs"]:
        t = time.monotonic()
        Path(job["out"]).mkdir(parents=True, exist_ok=True)
        if job["kind"] == "nlu":
            # as `rasa test nlu --nlu DATA --out OUT [--successes]` (errors written, plots on)
            await run_evaluation(
                job["data"],
                agent.processor,
                output_directory=job["out"],
                successes=bool(job.get("successes")),
                errors=True,
                disable_plotting=not job.get("plot", True),
            )
        else:
            # as `rasa test core --stories DATA --out OUT --no-plot`
            await core_test(
                job["data"],
                agent,
                out_directory=job["out"],
                disable_plotting=True,
                successes=False,
                errors=True,
                warnings=True,
            )
        seconds[job["name"]] = round(time.monotonic() - t, 1)
    return seconds


def main(argv: list[str] | None = None) -> int:
    """Run the jobs of the spec file given as the only argument."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m admissions.training.rasa_eval SPEC.json", file=sys.stderr)
        return 2
    spec_file = Path(args[0])
    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    seconds = asyncio.run(_run(spec))
    spec_file.with_suffix(".result.json").write_text(json.dumps({"seconds": seconds}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
