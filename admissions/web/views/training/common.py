"""What the retraining views share: their settings, the data writer, ids from the URL, and who
may read which visitor text."""

from __future__ import annotations

from aiohttp import web

from admissions.training import inbox, nludata
from admissions.training.settings import TrainingSettings
from admissions.web.keys import APP_DB, TRACKER_DB, TRAINING, USER
from admissions.web.templating import path_segment

FULL_TRANSCRIPT_ROLE = "admissions"


def settings_of(request: web.Request) -> TrainingSettings:
    """The retraining settings of the app serving ``request``."""
    return request.app[TRAINING]


def writer(settings: TrainingSettings) -> nludata.DataWriter:
    """The writer that adds examples to the NLU training data (one at a time, under a lock)."""
    return nludata.DataWriter(
        settings.nlu_dir, settings.domain, settings.heldout_dir, settings.work_dir / "data.lock"
    )


def id_from(value: str | None) -> int:
    """A positive id from a URL or form value (404 otherwise)."""
    try:
        number = int(value or "")
    except ValueError:
        raise web.HTTPNotFound() from None
    if number < 1:
        raise web.HTTPNotFound()
    return number


def training_conversation_url(conversation_id: str, event_id: int | None = None) -> str:
    """The trainer's view of a conversation, around one visitor message when given."""
    url = f"/staff/training/conversations/{path_segment(conversation_id)}"
    return url if event_id is None else f"{url}?event={event_id}#e{event_id}"


def reads_transcripts(request: web.Request) -> bool:
    """Whether the signed-in user may read whole transcripts (the ``admissions`` role)."""
    return request[USER].has_role(FULL_TRANSCRIPT_ROLE)


async def in_inbox(request: web.Request, item: inbox.InboxItem) -> bool:
    """Whether ``item`` is an inbox message (the only visitor text a trainer may read)."""
    async with request.app[APP_DB].connect() as conn:
        flagged = await inbox.flagged_ids(conn)
    async with request.app[TRACKER_DB].connect() as tracker:
        reasons = await inbox.reasons_for(
            tracker, item, settings_of(request).inbox_threshold, flagged
        )
    return bool(reasons)
