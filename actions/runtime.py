"""Shared, lazily created resources for the actions: facility config, spaCy pipeline, clock."""

from __future__ import annotations

import logging
import os
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from admissions.facility import Facility, default_facility_path, load_facility

logger = logging.getLogger(__name__)

SPACY_PIPELINE_PATH = Path(os.environ.get("SPACY_PIPELINE", "build/spacy/admissions_en"))


@lru_cache(maxsize=1)
def facility() -> Facility:
    """The facility configuration, loaded and validated once."""
    return load_facility(default_facility_path())


@lru_cache(maxsize=1)
def nlp() -> Any:
    """The project's spaCy pipeline: the built one on disk, else built in memory."""
    import spacy

    from admissions.understanding import build_pipeline as build

    if SPACY_PIPELINE_PATH.exists():
        return spacy.load(SPACY_PIPELINE_PATH)
    logger.warning("spaCy pipeline not built at %s; building it in memory", SPACY_PIPELINE_PATH)
    return build()


def now() -> datetime:
    """Current time (UTC); ``ADMISSIONS_CLOCK`` (ISO 8601) fixes it for tests and demos."""
    fixed = os.environ.get("ADMISSIONS_CLOCK")
    if fixed:
        value = datetime.fromisoformat(fixed)
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc)
