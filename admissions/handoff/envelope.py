"""The webhook body: the packet with its idempotency key and the 42 CFR Part 2 notice.

A disclosure of a substance use disorder record under 42 CFR Part 2 must carry the notice
of § 2.32; it travels inside the disclosed record itself, so it stays with the packet in
the receiving CRM. The body is serialised once, when the packet is enqueued, and the same
bytes are sent on every attempt.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

EVENT = "handoff_packet.completed"
NOTICE_CITATION = "42 CFR 2.32(a)(1)"
NOTICE_42_CFR_2_32 = (
    "This record which has been disclosed to you is protected by Federal confidentiality rules "
    "(42 CFR part 2). These rules prohibit you from using or disclosing this record, or "
    "testimony that describes the information contained in this record, in any civil, "
    "criminal, administrative, or legislative proceedings by any Federal, State, or local "
    "authority, against the patient, unless authorized by the consent of the patient, except "
    "as provided at 42 CFR 2.12(c)(5) or as authorized by a court in accordance with 42 CFR "
    "2.64 or 2.65. In addition, the Federal rules prohibit you from making any further "
    "disclosure of this record unless authorized by the written consent of the person to whom "
    "it pertains, or as otherwise permitted by 42 CFR part 2. A general authorization for the "
    "release of medical or other information is NOT sufficient for this purpose (see 42 CFR "
    "2.31). The Federal rules restrict any use of the information to investigate or prosecute "
    "with regard to a crime any patient with a substance use disorder, except as provided at "
    "42 CFR 2.12(c)(5) and 2.65."
)


def notice() -> dict[str, str]:
    """The § 2.32 notice as it is attached to every disclosed packet."""
    return {"citation": NOTICE_CITATION, "text": NOTICE_42_CFR_2_32}


def body(packet: Mapping[str, Any], facility: str) -> str:
    """The JSON body sent to the CRM for ``packet`` (compact, keys sorted: stable bytes)."""
    document = {
        "event": EVENT,
        "idempotency_key": packet["packet_id"],
        "facility": facility,
        "notice": notice(),
        "packet": packet,
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
