"""The packet as a FHIR R4 ``QuestionnaireResponse`` answering the shipped Questionnaire.

``schemas/fhir/handoff-questionnaire.json`` gives the structure: each item's ``linkId`` is the
packet path it answers (``insurance.member_id``), its ``type`` says how (string, date, boolean,
choice as a Coding from the item's answer options). Unknown and skipped answers are left out,
as FHIR wants; a group with no answered item is left out too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

QUESTIONNAIRE_FILE = (
    Path(__file__).resolve().parents[2] / "schemas" / "fhir" / ("handoff-questionnaire.json")
)


@lru_cache(maxsize=1)
def questionnaire() -> dict[str, Any]:
    """The shipped Questionnaire resource (read once)."""
    data: dict[str, Any] = json.loads(QUESTIONNAIRE_FILE.read_text(encoding="utf-8"))
    return data


def canonical() -> str:
    """The Questionnaire's canonical reference with its version (``url|version``)."""
    q = questionnaire()
    return f"{q['url']}|{q['version']}"


def _lookup(packet: Mapping[str, Any], path: str) -> Any:
    value: Any = packet
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _answers(item: Mapping[str, Any], value: Any) -> list[dict[str, Any]]:
    kind = item["type"]
    values = value if isinstance(value, list) else [value]
    out: list[dict[str, Any]] = []
    for v in values:
        if v is None or v == "":
            continue
        if kind == "boolean" and isinstance(v, bool):
            out.append({"valueBoolean": v})
        elif kind == "date" and isinstance(v, str):
            out.append({"valueDate": v})
        elif kind == "choice":
            for option in item.get("answerOption", []):
                coding = option.get("valueCoding", {})
                if coding.get("code") == v:
                    out.append({"valueCoding": dict(coding)})
        elif kind == "string":
            out.append({"valueString": str(v)})
    return out


def _items(items: list[dict[str, Any]], packet: Mapping[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items:
        if item["type"] == "group":
            children = _items(item.get("item", []), packet)
            if children:
                out.append({"linkId": item["linkId"], "text": item["text"], "item": children})
            continue
        answers = _answers(item, _lookup(packet, item["linkId"]))
        if answers:
            out.append({"linkId": item["linkId"], "text": item["text"], "answer": answers})
    return out


def questionnaire_response(packet: Mapping[str, Any]) -> dict[str, Any]:
    """The packet as a QuestionnaireResponse (a JSON-ready dict)."""
    response: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": packet["packet_id"],
        "identifier": {
            "system": "urn:admissions-assistant:handoff-packet",
            "value": packet["packet_id"],
        },
        "questionnaire": canonical(),
        "status": "completed" if packet.get("completed_at") else "in-progress",
        "item": _items(questionnaire()["item"], packet),
    }
    if packet.get("completed_at"):
        response["authored"] = packet["completed_at"]
    return response
