"""How the visitor would pay, from ``payer`` and ``payment_kind`` spans.

A named insurer means ``insurance`` unless the message says Medicaid, Medicare or no
insurance. "No"/"don't have"/"lost" in front of a kind negates it: negated insurance is
``no_insurance``; a negated Medicaid, Medicare, self-pay or money worry is dropped. When
several kinds remain the most specific wins: medicaid, medicare, insurance, tight_money,
self_pay, no_insurance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from admissions.profile import PAYMENT_KINDS
from admissions.understanding.text import NEGATORS, lower_tokens, preceded_by, sentence_ids, words

if TYPE_CHECKING:
    from spacy.tokens import Doc

PRIORITY: tuple[str, ...] = (
    "medicaid",
    "medicare",
    "insurance",
    "tight_money",
    "self_pay",
    "no_insurance",
)
_NEGATORS = NEGATORS | {"lost", "lapsed", "dropped", "cancelled", "canceled", "lose", "nor"}
_FILLER = words(
    "have has got any health medical my an a the real currently do does did longer on "
    "qualify for eligible get private 's is am 'm m even anymore use"
)


@dataclass
class PaymentFacts:
    """Payment findings of one message."""

    payment: str | None = None
    payer: str | None = None


def read_payment(doc: Doc) -> PaymentFacts:
    """The payment kind (one of ``PAYMENT_KINDS``) and insurer named in a parsed message."""
    words = lower_tokens(doc)
    sent = sentence_ids(doc)
    kinds: set[str] = set()
    payer: str | None = None
    for ent in doc.ents:
        if ent.label_ not in {"payer", "payment_kind"}:
            continue
        negated = preceded_by(words, sent, ent.start, _NEGATORS, _FILLER, window=5)
        if ent.label_ == "payer":
            if not negated and payer is None:
                payer = ent.ent_id_ or ent.text
            continue
        kind = ent.ent_id_
        if kind not in PAYMENT_KINDS:
            continue
        if negated:
            if kind == "insurance":
                kinds.add("no_insurance")
            continue
        kinds.add(kind)
    if payer and not kinds & {"medicaid", "medicare", "no_insurance"}:
        kinds.add("insurance")
    payment = next((k for k in PRIORITY if k in kinds), None)
    return PaymentFacts(payment=payment, payer=payer)
