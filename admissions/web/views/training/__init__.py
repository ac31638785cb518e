"""Retraining pages (role ``trainer``): the NLU inbox and annotating (``inbox``), the trainer's
view of a conversation and flagging (``conversation``), intents and direct examples
(``intents``), training runs with their report (``runs``), and the model history with
promote / roll back (``models``).

Visitor text appears only on the inbox, annotate and conversation pages (audited like
transcripts). A trainer reads only messages that are in the inbox (they fell back, scored low,
were re-asked, read back and changed, corrected later or flagged; never callback-form answers)
and, around one of them, the assistant's turn before and after with personal details masked;
whole transcripts need the ``admissions`` role. Nothing enters the training data while it holds
a phone number, an email address or a name (``admissions.training.pii``).
"""

from __future__ import annotations

from aiohttp import web

from admissions.web.views.training import conversation, inbox, intents, models, runs

ROUTES: list[web.RouteDef] = [
    web.get("/staff/training/inbox", inbox.inbox_page, name="staff.training_inbox"),
    web.get("/staff/training/inbox/{eid}", inbox.item_page, name="staff.training_item"),
    web.post("/staff/training/inbox/{eid}", inbox.item_decide),
    web.post("/staff/conversations/{cid}/flag", conversation.flag, name="staff.flag"),
    web.get(
        "/staff/training/conversations/{cid}",
        conversation.conversation_page,
        name="staff.training_conversation",
    ),
    web.get("/staff/training/intents", intents.intents_page, name="staff.training_intents"),
    web.post("/staff/training/examples", intents.examples_add, name="staff.training_examples"),
    web.get("/staff/training/runs", runs.runs_page, name="staff.training_runs"),
    web.post("/staff/training/runs", runs.runs_start),
    web.get("/staff/training/runs/{rid}", runs.run_page, name="staff.training_run"),
    web.get(
        "/staff/training/runs/{rid}/confusion-{which}.png",
        runs.run_matrix,
        name="staff.training_matrix",
    ),
    web.get("/staff/training/models", models.models_page, name="staff.training_models"),
    web.post("/staff/training/models/{mid}/promote", models.model_promote),
    web.post("/staff/training/models/{mid}/rollback", models.model_rollback),
]
"""The retraining route table (``web.get`` also answers HEAD, as ``add_get`` does)."""


def setup_routes(app: web.Application) -> None:
    """Register the retraining routes (``ROUTES``)."""
    app.router.add_routes(ROUTES)
