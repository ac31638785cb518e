#!/usr/bin/env python3
"""Fail when a locked dependency is affected by a known advisory that no exception covers.

Reads ``security/advisories.yml`` (advisories with PEP 440 ``affected`` ranges, documented
exceptions, and the lock file of each environment) and every ``name==version`` line of those
lock files. Exit status 0 when every affected (environment, package, advisory) is covered by
an exception; 1 when one is not, when an exception covers nothing any more (stale), or when
the advisories file is malformed. Runs with PyYAML and ``packaging`` (both environments).

    python scripts/check_advisories.py [--advisories FILE] [--lock ENV=PATH ...] [--quiet]
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILE = ROOT / "security" / "advisories.yml"
LOCK_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


class AdvisoryFileError(ValueError):
    """``advisories.yml`` is missing a field or has a bad value."""


def normalize(name: str) -> str:
    """PEP 503 normalized project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Advisory:
    """One advisory for one package."""

    id: str
    package: str
    affected: tuple[SpecifierSet, ...]
    fixed: str
    summary: str
    cve: str | None = None

    def affects(self, version: str) -> bool:
        """Whether ``version`` falls in any affected range (pre-releases included)."""
        try:
            parsed = Version(version)
        except InvalidVersion:
            return False
        return any(spec.contains(parsed, prereleases=True) for spec in self.affected)


@dataclass(frozen=True)
class Exception_:
    """Accepted advisories for one package in one environment, with the reason."""

    env: str
    package: str
    ids: frozenset[str]
    reason: str
    pinned_by: str


@dataclass(frozen=True)
class Finding:
    """A locked version affected by an advisory."""

    env: str
    package: str
    version: str
    advisory: Advisory
    accepted: bool


def _require(entry: dict[str, Any], key: str, where: str) -> Any:
    if key not in entry or entry[key] in (None, "", []):
        raise AdvisoryFileError(f"{where}: missing '{key}'")
    return entry[key]


def load(path: Path) -> tuple[dict[str, Path], list[Advisory], list[Exception_]]:
    """Parse the advisories file: (locks by environment, advisories, exceptions)."""
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict):
        raise AdvisoryFileError(f"{path}: not a mapping")
    locks = {str(env): ROOT / str(p) for env, p in (data.get("locks") or {}).items()}
    advisories: list[Advisory] = []
    seen: set[tuple[str, str]] = set()
    for i, entry in enumerate(data.get("advisories") or []):
        where = f"advisories[{i}]"
        if not isinstance(entry, dict):
            raise AdvisoryFileError(f"{where}: not a mapping")
        advisory_id = str(_require(entry, "id", where))
        package = normalize(str(_require(entry, "package", where)))
        ranges = _require(entry, "affected", where)
        try:
            specs = tuple(SpecifierSet(str(r)) for r in ranges)
            Version(str(_require(entry, "fixed", where)))
        except (InvalidSpecifier, InvalidVersion) as exc:
            raise AdvisoryFileError(f"{where} ({advisory_id}): {exc}") from None
        if (advisory_id, package) in seen:
            raise AdvisoryFileError(f"{where}: {advisory_id} listed twice for {package}")
        seen.add((advisory_id, package))
        advisories.append(
            Advisory(
                id=advisory_id,
                package=package,
                affected=specs,
                fixed=str(entry["fixed"]),
                summary=str(entry.get("summary", "")),
                cve=entry.get("cve"),
            )
        )
    known = {(a.id, a.package) for a in advisories}
    exceptions: list[Exception_] = []
    for i, entry in enumerate(data.get("exceptions") or []):
        where = f"exceptions[{i}]"
        env = str(_require(entry, "env", where))
        package = normalize(str(_require(entry, "package", where)))
        ids = frozenset(str(x) for x in _require(entry, "ids", where))
        reason = str(_require(entry, "reason", where))
        pinned_by = str(_require(entry, "pinned_by", where))
        if env not in locks:
            raise AdvisoryFileError(f"{where}: unknown environment '{env}'")
        unknown = sorted(x for x in ids if (x, package) not in known)
        if unknown:
            raise AdvisoryFileError(f"{where}: not in advisories for {package}: {unknown}")
        exceptions.append(Exception_(env, package, ids, reason, pinned_by))
    return locks, advisories, exceptions


def locked_versions(path: Path) -> dict[str, str]:
    """``{normalized name: version}`` from a pip-compile / uv lock file."""
    versions = {}
    for line in path.read_text().splitlines():
        match = LOCK_LINE.match(line.strip())
        if match:
            versions[normalize(match.group(1))] = match.group(2)
    return versions


def check(
    locks: dict[str, Path], advisories: list[Advisory], exceptions: list[Exception_]
) -> tuple[list[Finding], list[str]]:
    """Findings per environment, and problems (stale exceptions, missing lock files)."""
    findings: list[Finding] = []
    problems: list[str] = []
    used: set[tuple[str, str, str]] = set()
    accepted = {(e.env, e.package, i) for e in exceptions for i in e.ids}
    for env, path in sorted(locks.items()):
        if not path.exists():
            problems.append(f"{env}: lock file {path} not found")
            continue
        versions = locked_versions(path)
        for advisory in advisories:
            version = versions.get(advisory.package)
            if version is None or not advisory.affects(version):
                continue
            key = (env, advisory.package, advisory.id)
            findings.append(Finding(env, advisory.package, version, advisory, key in accepted))
            used.add(key)
    for key in sorted(accepted - used):
        env, package, advisory_id = key
        if locks.get(env) is not None and locks[env].exists():
            problems.append(
                f"{env}: exception for {package} {advisory_id} no longer matches the lock:"
                " remove it"
            )
    return findings, problems


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--advisories", type=Path, default=DEFAULT_FILE)
    parser.add_argument(
        "--lock",
        action="append",
        default=[],
        metavar="ENV=PATH",
        help="use this lock file for an environment (tests)",
    )
    parser.add_argument("--quiet", action="store_true", help="print only failures")
    args = parser.parse_args(argv)
    try:
        locks, advisories, exceptions = load(args.advisories)
    except (OSError, yaml.YAMLError, AdvisoryFileError) as exc:
        print(f"advisories: cannot read {args.advisories}: {exc}", file=sys.stderr)
        return 1
    for item in args.lock:
        env, _, path = item.partition("=")
        locks[env] = Path(path)
    findings, problems = check(locks, advisories, exceptions)
    failing = [f for f in findings if not f.accepted]
    for f in failing:
        print(
            f"VULNERABLE {f.env}: {f.package}=={f.version} {f.advisory.id}"
            f"{' (' + f.advisory.cve + ')' if f.advisory.cve else ''}: {f.advisory.summary};"
            f" fixed in {f.advisory.fixed}",
            file=sys.stderr,
        )
    for problem in problems:
        print(f"PROBLEM {problem}", file=sys.stderr)
    if not args.quiet:
        by_env: dict[tuple[str, str, str], int] = {}
        for f in findings:
            if f.accepted:
                by_env[(f.env, f.package, f.version)] = (
                    by_env.get((f.env, f.package, f.version), 0) + 1
                )
        for (env, package, version), n in sorted(by_env.items()):
            print(f"accepted   {env}: {package}=={version}: {n} advisories (see exceptions)")
        checked = sum(len(locked_versions(p)) for p in locks.values() if p.exists())
        print(
            f"advisories: {len(advisories)} known, {checked} locked packages checked, "
            f"{len(failing)} unaccepted, {len(problems)} problems"
        )
    return 1 if failing or problems else 0


if __name__ == "__main__":
    sys.exit(main())
