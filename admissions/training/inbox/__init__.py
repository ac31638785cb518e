"""The NLU inbox: visitor messages a trainer should look at (``items``: what is in it, read
from Rasa's tracker store), why each is there (``signals``: what happened next in its
conversation) and what trainers decided or staff flagged (``decisions``, in the app database).
"""

from admissions.training.inbox.decisions import (
    WrittenExample,
    decided_keys,
    flag,
    flagged_ids,
    forget_conversation,
    recent_decisions,
    record_decision,
)
from admissions.training.inbox.items import (
    InboxItem,
    candidates,
    deduplicate,
    inbox,
    is_private,
    occurrences,
    parse_user_event,
    reasons_for,
    user_event,
)
from admissions.training.inbox.signals import (
    CALLBACK_SLOTS,
    CORRECTED,
    FELL_BACK,
    FLAGGED,
    LOW_CONFIDENCE,
    READ_BACK_CHANGED,
    REASKED,
    REASONS,
    ConversationSignals,
    read_conversation,
)

__all__ = [
    "CALLBACK_SLOTS",
    "CORRECTED",
    "FELL_BACK",
    "FLAGGED",
    "LOW_CONFIDENCE",
    "READ_BACK_CHANGED",
    "REASKED",
    "REASONS",
    "ConversationSignals",
    "InboxItem",
    "WrittenExample",
    "candidates",
    "decided_keys",
    "deduplicate",
    "flag",
    "flagged_ids",
    "forget_conversation",
    "inbox",
    "is_private",
    "occurrences",
    "parse_user_event",
    "read_conversation",
    "reasons_for",
    "recent_decisions",
    "record_decision",
    "user_event",
]
