"""The fit explained to the visitor in a few short lines: provisional, never clinical."""

from __future__ import annotations

from admissions.facility import Facility
from admissions.fit.phrasing import Voice, in_full
from admissions.fit.results import UNDETERMINED, FitResult
from admissions.profile import VisitorProfile


def explain(result: FitResult, profile: VisitorProfile, facility: Facility) -> str:
    """A brief visitor-facing explanation (3–6 short lines); provisional, never clinical."""
    voice = Voice(profile.for_loved_one)
    them = "them" if profile.for_loved_one else "you"
    need = facility.programs[result.need_level]
    lines: list[str] = []
    if result.recommended == result.need_level:
        lines.append(f"{in_full(need)} looks like a good fit for {them}.")
        lines.append(_sentence(result.programs[need.key].reasons[0]))
    elif result.recommended != UNDETERMINED:
        pick = facility.programs[result.recommended]
        lines.append(_sentence(result.note))
        lines.append(_sentence(result.programs[pick.key].reasons[0]))
    else:
        lines.append(_sentence(result.note))
        first = result.programs[need.key].reasons
        if first and "schedule yet" not in first[0]:
            lines.append(_sentence(first[0]))
    lines.append(
        "This is only a first look: the admissions team confirms the right program with you."
    )
    if profile.severe_withdrawal:
        lines.append("Please call admissions soon so they can help plan a safe start.")
    payment = _payment_line(profile, facility, voice)
    if payment:
        lines.append(payment)
    lines.append(f"You can reach admissions at {facility.admissions.phone}.")
    return "\n".join(lines)


def _payment_line(profile: VisitorProfile, facility: Facility, voice: Voice) -> str | None:
    """One line on paying; never promises coverage."""
    payers = facility.payers
    if profile.payment is None:
        return f"Admissions will also go over how {voice.would} pay and check coverage."
    for kind, name, accepted in (
        ("medicaid", "Medicaid", payers.medicaid),
        ("medicare", "Medicare", payers.medicare),
    ):
        if profile.payment == kind and not accepted:
            return (
                f"{facility.name} doesn't take {name}; admissions can talk through other options."
            )
    if profile.payment == "insurance":
        if profile.payer and not payers.accepts(profile.payer):
            return f"Admissions will check whether {profile.payer} can be used here."
        return f"Admissions will check {voice.poss} benefits; nothing is promised until then."
    return None


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[0].upper() + text[1:] if text else text
    return text if text.endswith((".", "!", "?")) else f"{text}."
