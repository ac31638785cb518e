"""Read ``facility.yml`` from disk: which file, strict YAML, then validation.

Every mistake is reported as a ``FacilityConfigError`` whose message names the file, the
field path and what was expected, e.g.
``facility.yml: programs.iop.tracks[1].start: expected a time like "17:30", got "25:00"``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from admissions.facility.model import Facility, FacilityConfigError
from admissions.facility.validation import parse_facility


def default_facility_path() -> Path:
    """``$FACILITY_FILE`` when set, else ``facility.yml`` at the repository root."""
    env = os.environ.get("FACILITY_FILE", "").strip()
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "facility.yml"


def load_facility(path: str | Path = "facility.yml") -> Facility:
    """Read and validate a facility file; raises ``FacilityConfigError`` naming the field."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FacilityConfigError(f"{source}: file not found") from None
    except OSError as exc:
        raise FacilityConfigError(f"{source}: cannot read the file: {exc.strerror}") from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = exc.problem or exc.context or "syntax error"
        raise FacilityConfigError(f"{source}: {where}not valid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise FacilityConfigError(f"{source}: not valid YAML: {exc}") from None
    return parse_facility(data, source)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys instead of silently keeping the last one."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)  # type: ignore[no-untyped-call]
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


# Keep dates as text so a bad date ("2026-13-01") is reported with its field path.
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,  # type: ignore[arg-type]
)
