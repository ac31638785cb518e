"""The audit trail in words: what each action was and what its stored details say.

The audit log stores a small JSON object per row (never message text). Admins are not
programmers, so the audit page says it in words: ``{"filters": {"crisis": "yes"}, "page": 1,
"results": 3, "ids": [...]}`` reads "Filters: crisis yes · page 1 · 3 results · 3
conversations on screen". Keys this module does not know are still shown, as "key: value".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

ACTIONS: dict[str, str] = {
    "login": "Signed in",
    "login_password": "Password step of signing in",
    "login_second_factor": "Second step of signing in",
    "logout": "Signed out",
    "password_change": "Changed own password",
    "password_reset": "Reset a password",
    "csrf_check": "Form check failed",
    "list": "Listed conversations",
    "search": "Searched by reference code",
    "view": "Read a transcript",
    "note_add": "Added a note",
    "review": "Changed a review mark",
    "export": "Exported transcripts",
    "callbacks_view": "Opened the callback queue",
    "callback_status": "Updated a callback",
    "dashboard": "Opened the dashboard",
    "audit_view": "Read the audit trail",
    "users_view": "Opened the accounts page",
    "user_create": "Created an account",
    "user_disable": "Disabled an account",
    "user_enable": "Enabled an account",
    "totp_enrol": "Set up a second factor",
    "totp_reset": "Reset a second factor",
    "retention_view": "Opened the retention page",
    "retention_run": "Ran the retention purge",
    "purge": "Deleted old conversations",
    "nlu_inbox": "Opened the NLU inbox",
    "nlu_item_view": "Opened a message to annotate",
    "nlu_annotate": "Decided on an inbox message",
    "nlu_flag": "Flagged a message as misunderstood",
    "nlu_conversation_view": "Read a message in its conversation (training)",
    "nlu_example_add": "Added training examples",
    "retrain": "Started a retraining",
    "retrain_started": "Retraining started",
    "retrain_finished": "Retraining finished",
    "model_promote": "Put a model live",
    "model_rollback": "Rolled back to an earlier model",
    "model_prune": "Deleted old model files",
    "packet_export": "Downloaded a handoff packet",
    "outbox_view": "Opened the CRM deliveries",
    "packet_resend": "Sent a handoff packet to the CRM again",
    "disclosure": "Disclosed a handoff packet to the CRM (42 CFR 2.32 notice attached)",
}
RESULTS: dict[str, str] = {
    "ok": "done",
    "denied": "refused: not allowed",
    "unauthenticated": "refused: not signed in",
    "not_found": "not found",
    "invalid": "refused: invalid",
    "throttled": "refused: too many attempts",
    "error": "failed",
}
FILTER_NAMES = {
    "since": {"closing": "since the line closed", "all": "any date"},
    "short": {"hide": "short chats hidden", "show": "short chats shown"},
    "reviewed": {"yes": "reviewed", "no": "not reviewed yet", "any": "reviewed or not"},
}
DECISIONS = {
    "accept": "accepted as an example",
    "intent": "accepted as an example",
    "out_of_scope": "marked out of scope",
    "ignore": "ignored",
    "redact": "personal details replaced",
}


def _plural(n: Any, one: str, many: str | None = None) -> str:
    try:
        count = int(n)
    except (TypeError, ValueError):
        return f"{n} {many or one + 's'}"
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _listing(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def _filters(value: Any) -> str:
    if not isinstance(value, dict) or not value:
        return "no filters"
    parts = []
    for key, raw in value.items():
        named = FILTER_NAMES.get(key, {}).get(str(raw))
        parts.append(named or f"{key.replace('_', ' ')} {raw}")
    return "filters: " + ", ".join(parts)


def _flag(yes: str, no: str) -> Callable[[Any], str]:
    return lambda v: yes if v else no


KEYS: dict[str, Callable[[Any], str]] = {
    "filters": _filters,
    "page": lambda v: f"page {v}",
    "results": lambda v: _plural(v, "result"),
    "items": lambda v: _plural(v, "message") + " in the inbox",
    "ids": lambda v: (
        _plural(len(v) if isinstance(v, list) else v, "conversation")
        + " on screen (ids kept in the stored row)"
    ),
    "conversations": lambda v: _plural(v, "conversation"),
    "reference_code": lambda v: f"code {v}" if v else "no reference code",
    "reviewed": _flag("marked reviewed", "review mark removed"),
    "format": lambda v: f"as {str(v).upper()}",
    "event": lambda v: f"visitor message #{v}",
    "decision": lambda v: DECISIONS.get(str(v), str(v)),
    "intent": lambda v: f"intent {v}",
    "refused": lambda v: f"refused: {v}",
    "found": lambda v: f"personal details found: {_listing(v)}",
    "replaced": lambda v: f"replaced: {_listing(v)}",
    "examples": lambda v: _plural(v, "example"),
    "added": lambda v: f"{v} added",
    "present": lambda v: f"{v} already in the data",
    "file": lambda v: f"file {v}" if v else "no file written",
    "edited": _flag("text edited by the trainer", "text as the visitor wrote it"),
    "new": _flag("newly flagged", "already flagged before"),
    "view": lambda v: (
        "one message and the assistant's turns around it" if v == "context" else f"view {v}"
    ),
    "run": lambda v: f"training run #{v}",
    "promote": _flag("put live if it passes", "not put live automatically"),
    "model": lambda v: f"model #{v}",
    "previous": lambda v: f"replacing model #{v}" if v else "no model was live before",
    "seconds": lambda v: f"took {v} s",
    "error": lambda v: f"error: {v}",
    "status": lambda v: f"status {v}",
    "note": _flag("with a note", "no note"),
    "days": lambda v: _plural(v, "day"),
    "user": lambda v: f"account {v}",
    "username": lambda v: f"account {v}",
    "user_id": lambda v: f"account #{v}",
    "roles": lambda v: f"roles {_listing(v)}",
    "role": lambda v: f"role {v}",
    "deleted": lambda v: _plural(v, "conversation") + " deleted",
    "dry_run": _flag("trial run: nothing deleted", "for real"),
    "recovery_codes": lambda v: _plural(v, "recovery code"),
    "at": lambda v: f"from the {v} page",
    "path_id_length": lambda v: f"an id of {v} characters in the address (not stored)",
    "unknown_username": lambda v: f"an unknown username (kept only as a code, {v})",
    "suppressed_before": lambda v: _plural(v, "earlier refusal") + " not stored separately",
    "reason": lambda v: f"reason: {str(v).replace('_', ' ')}",
    "events": lambda v: _plural(v, "event") + " deleted",
    "files": lambda v: _plural(v if not isinstance(v, list) else len(v), "file") + " deleted",
    "gate_passed": _flag("passed the quality gate", "did not pass the quality gate"),
    "mode": lambda v: f"{v} training",
    "packet_id": lambda v: f"packet {v}",
    "packets": lambda v: _plural(v, "handoff packet") + " on screen",
    "recipient": lambda v: f"to {v}",
    "attempt": lambda v: f"attempt {v}",
    "outcome": lambda v: f"answer: {v}",
    "body_sha256": lambda v: f"body SHA-256 {str(v)[:12]}…",
    "notice": lambda v: f"notice {v} attached",
    "was": lambda v: f"was {v}",
}


def action_words(action: str) -> str:
    """What an action code means (``nlu_inbox`` -> "Opened the NLU inbox")."""
    return ACTIONS.get(action, action.replace("_", " ").capitalize())


def result_words(result: str) -> str:
    """What a result code means (``denied`` -> "refused: not allowed")."""
    return RESULTS.get(result, result.replace("_", " "))


def detail_words(detail: str | None) -> str:
    """A stored detail (JSON) in words, parts separated by " · "; "" when there is none."""
    if not detail:
        return ""
    try:
        data = json.loads(detail)
    except ValueError:
        return detail
    if not isinstance(data, dict):
        return str(data)
    parts = []
    for key, value in data.items():
        render = KEYS.get(key)
        if render is not None:
            try:
                parts.append(render(value))
                continue
            except (TypeError, ValueError, AttributeError):
                pass
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items())
        elif isinstance(value, list):
            value = _listing(value)
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        parts.append(f"{key.replace('_', ' ')}: {value}")
    text = " · ".join(p for p in parts if p)
    return text[:1].upper() + text[1:]
