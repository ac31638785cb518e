"""The retraining tests' project copy and swappable stack: ``scripts/retrain_stack.py`` (shared
with ``benchmarks/retrain.py``)."""

from __future__ import annotations

from scripts.retrain_stack import (
    BIN,
    JWT_SECRET,
    REPO,
    SPACY,
    Stack,
    make_project,
    rasa_env,
    stack,
    test_config,
    train,
)

__all__ = [
    "BIN",
    "JWT_SECRET",
    "REPO",
    "SPACY",
    "Stack",
    "make_project",
    "rasa_env",
    "stack",
    "test_config",
    "train",
]
