"""Build the project's own spaCy pipeline: blank English plus an entity ruler.

No pretrained spaCy pipeline can be downloaded for spaCy 3.4 in our environments, so rule
knowledge (schedule phrases, caregiving relations, payer names, crisis phrases) lives in the
readable pattern files under ``admissions/understanding/patterns/*.yml`` and is compiled here into a
pipeline that Rasa's ``SpacyNLP`` loads by path (see ``config.yml``).

Run: ``python -m admissions.understanding.pipeline [OUTPUT_DIR]`` (make does this when needed).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

PATTERN_DIR = Path(__file__).parent / "patterns"
DEFAULT_OUTPUT = Path("build/spacy/admissions_en")


class PatternError(ValueError):
    """A pattern file is malformed; the message names the file and the entry."""


def read_pattern_file(path: Path) -> dict[str, Any]:
    """One pattern file as a mapping; a clear ``PatternError`` when it is not valid YAML."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise PatternError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise PatternError(f"{path}: expected a mapping at the top level")
    return doc


def check_scalars(value: Any, where: str, key: str = "") -> None:
    """Reject YAML's surprise booleans: an unquoted ``no``/``on``/``off`` where a word belongs.

    Booleans are fine only as the value of a flag attribute such as ``IS_ALPHA: true``.
    """
    if isinstance(value, dict):
        for k, item in value.items():
            check_scalars(item, where, str(k))
    elif isinstance(value, list):
        for item in value:
            check_scalars(item, where)
    elif value is None or (isinstance(value, bool) and not key.startswith(("IS_", "LIKE_"))):
        raise PatternError(f"{where}: {value!r} is not a word - quote no/yes/on/off in YAML")


def load_patterns(
    pattern_dir: Path = PATTERN_DIR, files: Iterable[Path] | None = None
) -> list[dict[str, Any]]:
    """Read pattern files (every ``*.yml``, or just ``files``) into entity-ruler patterns.

    The one loader of the project: the full pipeline and the crisis net's own both use it. A
    file holds ``patterns:``, a list of entries ``{label, phrases: [..]}`` (matched
    case-insensitively as phrases) or ``{label, tokens: [..]}`` (a spaCy token pattern),
    each with an optional ``id`` kept on the matched span as ``ent_id_``.
    """
    patterns: list[dict[str, Any]] = []
    for path in sorted(files if files is not None else pattern_dir.glob("*.yml")):
        entries = read_pattern_file(path).get("patterns")
        if not isinstance(entries, list):
            raise PatternError(f"{path}: expected a top-level 'patterns:' list")
        for n, entry in enumerate(entries, 1):
            where = f"{path.name} entry {n}"
            check_scalars(entry, where)
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


def build(
    pattern_dir: Path = PATTERN_DIR,
    files: Iterable[Path] | None = None,
    patterns: list[dict[str, Any]] | None = None,
) -> Any:
    """Return a blank English ``Language`` with an entity ruler holding the patterns.

    The one builder of the project: ``files`` narrows it to some pattern files (the crisis
    net runs on the crisis phrases alone, so no longer span of another label can shadow one);
    ``patterns`` passes ones already loaded, so a file is not read twice.
    """
    import spacy  # imported here so the pure modules stay importable without spaCy

    nlp = spacy.blank("en")
    ruler = nlp.add_pipe(
        "entity_ruler",
        config={"phrase_matcher_attr": "LOWER", "overwrite_ents": True},
    )
    if patterns is None:
        patterns = load_patterns(pattern_dir, files)
    ruler.add_patterns(patterns)  # type: ignore[attr-defined]
    nlp.meta["name"] = "admissions_en"
    nlp.meta["version"] = "1.0.0"
    nlp.meta["description"] = (
        "Blank English + entity ruler built from admissions/understanding/patterns"
    )
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
