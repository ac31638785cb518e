"""Build the project's own spaCy pipeline: blank English plus an entity ruler.

No pretrained spaCy pipeline can be downloaded for spaCy 3.4 in our environments, so rule
knowledge (schedule phrases, caregiving relations, payer names, crisis phrases) lives in the
readable pattern files under ``admissions/patterns/*.yml`` and is compiled here into a
pipeline that Rasa's ``SpacyNLP`` loads by path (see ``config.yml``).

Run: ``python -m admissions.nlp_builder [OUTPUT_DIR]`` (``make spacy`` does this when needed).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

PATTERN_DIR = Path(__file__).parent / "patterns"
DEFAULT_OUTPUT = Path("build/spacy/admissions_en")


class PatternError(ValueError):
    """A pattern file is malformed; the message names the file and the entry."""


def load_patterns(pattern_dir: Path = PATTERN_DIR) -> list[dict[str, Any]]:
    """Read every ``*.yml`` pattern file into entity-ruler patterns, validating each entry.

    A file holds ``patterns:``, a list of entries ``{label, phrases: [..]}`` (matched
    case-insensitively as phrases) or ``{label, tokens: [..]}`` (a spaCy token pattern),
    each with an optional ``id`` kept on the matched span as ``ent_id_``.
    """
    patterns: list[dict[str, Any]] = []
    for path in sorted(pattern_dir.glob("*.yml")):
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise PatternError(f"{path}: not valid YAML: {exc}") from exc
        entries = doc.get("patterns")
        if not isinstance(entries, list):
            raise PatternError(f"{path}: expected a top-level 'patterns:' list")
        for n, entry in enumerate(entries, 1):
            where = f"{path.name} entry {n}"
            if not isinstance(entry, dict) or not isinstance(entry.get("label"), str):
                raise PatternError(f"{where}: each entry needs a string 'label'")
            label = entry["label"]
            extra: dict[str, Any] = {"id": str(entry["id"])} if "id" in entry else {}
            if "phrases" in entry:
                phrases = entry["phrases"]
                if not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
                    raise PatternError(f"{where}: 'phrases' must be a list of strings")
                patterns.extend({"label": label, "pattern": p.lower(), **extra} for p in phrases)
            elif "tokens" in entry:
                tokens = entry["tokens"]
                if not isinstance(tokens, list) or not all(isinstance(t, dict) for t in tokens):
                    raise PatternError(f"{where}: 'tokens' must be a list of token objects")
                patterns.append({"label": label, "pattern": tokens, **extra})
            else:
                raise PatternError(f"{where}: needs 'phrases' or 'tokens'")
    return patterns


def build(pattern_dir: Path = PATTERN_DIR) -> Any:
    """Return a blank English ``Language`` with an entity ruler holding every pattern."""
    import spacy  # imported here so the pure modules stay importable without spaCy

    nlp = spacy.blank("en")
    ruler = nlp.add_pipe(
        "entity_ruler",
        config={"phrase_matcher_attr": "LOWER", "overwrite_ents": True},
    )
    ruler.add_patterns(load_patterns(pattern_dir))  # type: ignore[attr-defined]
    nlp.meta["name"] = "admissions_en"
    nlp.meta["version"] = "1.0.0"
    nlp.meta["description"] = "Blank English + entity ruler built from admissions/patterns"
    return nlp


def main(argv: list[str]) -> int:
    """Build the pipeline and save it to the given directory (default build/spacy/admissions_en)."""
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUTPUT
    try:
        nlp = build()
    except PatternError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out)
    n = len(nlp.get_pipe("entity_ruler"))
    print(f"built spaCy pipeline with {n} patterns -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
