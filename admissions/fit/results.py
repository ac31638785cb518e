"""What scoring returns: the fit of each program, the recommendation, and the usable time."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from admissions.profile import UNDETERMINED as UNDETERMINED  # one source: the profile's keys
from admissions.profile import Window


@dataclass(frozen=True)
class ProgramFit:
    """How one program fits: ``track`` is the id of the best fitting track, if any."""

    fits: bool
    score: int
    reasons: list[str] = field(default_factory=list)
    track: str | None = None


@dataclass(frozen=True)
class FitResult:
    """The outcome of ``score``: need level, recommendation and per-program fit."""

    need_level: str
    recommended: str  # a program key or "undetermined"
    note: str
    programs: dict[str, ProgramFit]

    def to_slot(self) -> dict[str, Any]:
        """JSON-serialisable value of the ``program_fit`` slot."""
        out: dict[str, Any] = {
            key: {"fits": p.fits, "score": p.score, "reasons": list(p.reasons), "track": p.track}
            for key, p in self.programs.items()
        }
        out["need_level"] = self.need_level
        return out


@dataclass(frozen=True)
class UsableTime:
    """When the visitor can attend: windows per weekday, or ``None`` when unknown."""

    windows: dict[str, list[Window]] | None
    assumed: bool = False  # True when free time was assumed as 7 AM–10 PM outside busy time
