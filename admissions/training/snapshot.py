"""A run's frozen copy of the training data, domain and config (edits made while it trains
wait for the next run), and the check that no held-out test example leaked into it."""

from __future__ import annotations

import shutil
from pathlib import Path

from admissions.training import files, nludata
from admissions.training.settings import TrainingSettings


def _copy_domain(source: Path, target: Path) -> None:
    if source.is_dir():  # a domain split over files: Rasa takes the folder (any name)
        shutil.copytree(source, target)
    else:
        shutil.copyfile(source, target)


def snapshot(settings: TrainingSettings, snap: Path) -> dict[str, str]:
    """Copy data, domain and config into the run folder; returns their fingerprints."""
    if snap.exists():
        shutil.rmtree(snap)
    snap.mkdir(parents=True)
    shutil.copytree(
        settings.data_dir, snap / "data", ignore=shutil.ignore_patterns(".*", "*.tmp", "*.md")
    )
    _copy_domain(settings.domain, snap / "domain.yml")
    shutil.copyfile(settings.config, snap / "config.yml")
    return {
        "data": files.digest([snap / "data"]),
        "domain": files.digest([snap / "domain.yml"]),
        "config": files.digest([snap / "config.yml"]),
    }


def leaked_heldout(settings: TrainingSettings, nlu_dir: Path) -> list[str]:
    """Training examples that are also in the held-out test set (must be none)."""
    heldout = nludata.heldout_texts(settings.heldout_dir)
    return sorted(
        {
            t
            for b in nludata.load_blocks(nlu_dir)
            for t in b.examples
            if nludata.normalise(t) in heldout
        }
    )
