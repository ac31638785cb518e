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


def setup_routes(app: web.Application) -> None:
    """Register the retraining routes."""
    r = app.router
    r.add_get("/staff/training/inbox", inbox.inbox_page, name="staff.training_inbox")
    r.add_get("/staff/training/inbox/{eid}", inbox.item_page, name="staff.training_item")
    r.add_post("/staff/training/inbox/{eid}", inbox.item_decide)
    r.add_post("/staff/conversations/{cid}/flag", conversation.flag, name="staff.flag")
    r.add_get(
        "/staff/training/conversations/{cid}",
        conversation.conversation_page,
        name="staff.training_conversation",
    )
    r.add_get("/staff/training/intents", intents.intents_page, name="staff.training_intents")
    r.add_post("/staff/training/examples", intents.examples_add, name="staff.training_examples")
    r.add_get("/staff/training/runs", runs.runs_page, name="staff.training_runs")
    r.add_post("/staff/training/runs", runs.runs_start)
    r.add_get("/staff/training/runs/{rid}", runs.run_page, name="staff.training_run")
    r.add_get(
        "/staff/training/runs/{rid}/confusion-{which}.png",
        runs.run_matrix,
        name="staff.training_matrix",
    )
    r.add_get("/staff/training/models", models.models_page, name="staff.training_models")
    r.add_post("/staff/training/models/{mid}/promote", models.model_promote)
    r.add_post("/staff/training/models/{mid}/rollback", models.model_rollback)
