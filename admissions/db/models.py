"""The staff app's own tables (all prefixed ``staff_`` so they can share a database with Rasa).

Transcripts are *not* here: they stay in Rasa's ``events`` table (see ``tracker.py``).
These tables hold only staff accounts, sessions, the work done on conversations
(notes, review status, callback status) and the append-only audit log.
"""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ROLES: tuple[str, ...] = ("admissions", "trainer", "admin")
CALLBACK_STATUSES: tuple[str, ...] = ("new", "attempted", "reached", "closed")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention so migrations name constraints stably."""

    metadata = sa.MetaData(naming_convention=NAMING)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores naive values)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Store UTC; refuse naive datetimes so local times never slip in."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class User(Base):
    """A staff account. Never deleted (the audit log names it); disabled instead."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    roles: Mapped[str] = mapped_column(sa.String(100))  # comma-separated subset of ROLES
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def role_set(self) -> frozenset[str]:
        """The user's roles as a set."""
        return frozenset(r for r in self.roles.split(",") if r)


class StaffSession(Base):
    """A server-side login session; the cookie holds a random token, we keep its SHA-256."""

    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LoginAttempt(Base):
    """One sign-in attempt, kept a day for throttling per account and per address."""

    __tablename__ = "staff_login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username_key: Mapped[str] = mapped_column(sa.String(64), index=True)
    address: Mapped[str] = mapped_column(sa.String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    succeeded: Mapped[bool] = mapped_column(default=False)


class Note(Base):
    """A staff note on a conversation (health information: purged with the conversation)."""

    __tablename__ = "staff_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(sa.String(255), index=True)
    author: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    body: Mapped[str] = mapped_column(sa.Text)


class Review(Base):
    """That a conversation has been reviewed, by whom and when."""

    __tablename__ = "staff_reviews"

    conversation_id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    reviewed_by: Mapped[str] = mapped_column(sa.String(64))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class CallbackWork(Base):
    """The work status of a callback request; the request itself lives in the tracker slots."""

    __tablename__ = "staff_callbacks"

    conversation_id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(16), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    updated_by: Mapped[str] = mapped_column(sa.String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """One audit record. Append-only: the app has no update/delete path; triggers forbid both."""

    __tablename__ = "staff_audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    username: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    action: Mapped[str] = mapped_column(sa.String(40), index=True)
    conversation_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    address: Mapped[str | None] = mapped_column(sa.String(64))
    result: Mapped[str] = mapped_column(sa.String(20), index=True)
    detail: Mapped[str | None] = mapped_column(sa.Text)  # JSON; never message text


class JobRun(Base):
    """A run of a scheduled job (the retention purge), for the admin page."""

    __tablename__ = "staff_job_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(sa.String(40), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(sa.String(20))
    detail: Mapped[str | None] = mapped_column(sa.Text)


class NluFlag(Base):
    """A visitor message flagged for the NLU inbox (ids only: the text stays in Rasa's table)."""

    __tablename__ = "staff_nlu_flags"

    event_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    conversation_id: Mapped[str] = mapped_column(sa.String(255), index=True)
    flagged_by: Mapped[str] = mapped_column(sa.String(64))
    flagged_at: Mapped[datetime] = mapped_column(UTCDateTime())


class NluDecision(Base):
    """A trainer's decision on a message (by normalised-text hash) or an example added directly.

    ``example`` holds only what went into the training data (personal details removed).
    """

    __tablename__ = "staff_nlu_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    text_key: Mapped[str] = mapped_column(sa.String(64), index=True)
    decision: Mapped[str] = mapped_column(sa.String(16))  # intent | out_of_scope | ignore
    intent: Mapped[str | None] = mapped_column(sa.String(100))
    example: Mapped[str | None] = mapped_column(sa.Text)
    data_file: Mapped[str | None] = mapped_column(sa.String(255))
    event_id: Mapped[int | None] = mapped_column()
    conversation_id: Mapped[str | None] = mapped_column(sa.String(255))
    source: Mapped[str] = mapped_column(sa.String(16))  # inbox | direct
    decided_by: Mapped[str] = mapped_column(sa.String(64))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class ModelRecord(Base):
    """A trained (or adopted) Rasa model kept under ``models/history`` with its evaluation."""

    __tablename__ = "staff_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    file: Mapped[str] = mapped_column(sa.String(1024))
    sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    origin: Mapped[str] = mapped_column(sa.String(16))  # trained | adopted
    trained_by: Mapped[str] = mapped_column(sa.String(64))
    run_id: Mapped[int | None] = mapped_column()
    mode: Mapped[str | None] = mapped_column(sa.String(16))  # finetune | full
    fingerprints: Mapped[str | None] = mapped_column(sa.Text)  # JSON: data/domain/config sha
    metrics: Mapped[str | None] = mapped_column(sa.Text)  # JSON evaluation (see evaluate.py)
    crisis_examples: Mapped[str | None] = mapped_column(sa.Text)  # JSON list it was trained on
    gate_passed: Mapped[bool | None] = mapped_column()


class ModelEvent(Base):
    """A model going live: promotion, rollback, or adoption of a model trained outside the app."""

    __tablename__ = "staff_model_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_models.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(16))  # promote | rollback | adopt
    previous_id: Mapped[int | None] = mapped_column()
    by: Mapped[str] = mapped_column(sa.String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class TrainingRun(Base):
    """One retraining: validate, train, evaluate, gate (and maybe promote), with its progress."""

    __tablename__ = "staff_training_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    requested_by: Mapped[str] = mapped_column(sa.String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # queued | running | passed | rejected (gate) | failed (error) | refused (busy)
    status: Mapped[str] = mapped_column(sa.String(16), index=True)
    step: Mapped[str | None] = mapped_column(sa.String(40))
    steps: Mapped[str | None] = mapped_column(sa.Text)  # JSON list of {name, status, seconds}
    mode: Mapped[str | None] = mapped_column(sa.String(16))
    auto_promote: Mapped[bool] = mapped_column(default=False)
    explanation: Mapped[str | None] = mapped_column(sa.Text)  # plain words for staff
    candidate_id: Mapped[int | None] = mapped_column()
    baseline_id: Mapped[int | None] = mapped_column()
    report: Mapped[str | None] = mapped_column(sa.Text)  # JSON: metrics before/after, gate
    pid: Mapped[int | None] = mapped_column()
    peak_rss_kb: Mapped[int | None] = mapped_column()


class TotpFactor(Base):
    """A staff member's TOTP second factor (RFC 6238); ``confirmed_at`` None while enrolling.

    ``last_step`` is the last 30-second step a code was accepted for: a code is used once.
    """

    __tablename__ = "staff_totp"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    secret: Mapped[str] = mapped_column(sa.String(64))  # base32
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_step: Mapped[int | None] = mapped_column(sa.BigInteger)


class RecoveryCode(Base):
    """A one-time recovery code for the second factor: only its SHA-256 is kept."""

    __tablename__ = "staff_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PendingSignIn(Base):
    """A sign-in whose password was right and whose second factor is still to come.

    Not a session: it opens only the code and enrolment pages, for a few minutes.
    ``stage`` is ``code`` (enter a TOTP or recovery code) or ``enrol`` (set the factor up).
    """

    __tablename__ = "staff_pending_signins"

    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[str] = mapped_column(sa.String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


PACKET_STATUSES: tuple[str, ...] = ("pending", "delivered", "dead", "withdrawn")


class PacketDelivery(Base):
    """A handoff packet waiting for, or done with, the CRM webhook (the durable outbox).

    One row per conversation. ``body`` is the exact JSON sent on every attempt (health
    information: deleted with the conversation by retention and forget-me). ``status``:
    pending (retried with backoff), delivered (a 2xx came back), dead (gave up; an admin may
    resend), withdrawn (the visitor asked to be forgotten first: never sent).
    """

    __tablename__ = "staff_packet_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    packet_id: Mapped[str] = mapped_column(sa.String(36), unique=True)  # idempotency key
    completion_event_id: Mapped[int] = mapped_column(sa.BigInteger)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    enqueued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    body: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_outcome: Mapped[str | None] = mapped_column(sa.String(100))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resent_by: Mapped[str | None] = mapped_column(sa.String(64))
    resent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


def _table(model: type[Base]) -> sa.Table:
    table = model.__table__
    assert isinstance(table, sa.Table)
    return table


# Core tables for 2.0-style insert/update/delete statements.
USERS = _table(User)
SESSIONS = _table(StaffSession)
LOGIN_ATTEMPTS = _table(LoginAttempt)
NOTES = _table(Note)
REVIEWS = _table(Review)
CALLBACKS = _table(CallbackWork)
AUDIT_LOG = _table(AuditEntry)
JOB_RUNS = _table(JobRun)
NLU_FLAGS = _table(NluFlag)
NLU_DECISIONS = _table(NluDecision)
MODELS = _table(ModelRecord)
MODEL_EVENTS = _table(ModelEvent)
TRAINING_RUNS = _table(TrainingRun)
TOTP = _table(TotpFactor)
RECOVERY_CODES = _table(RecoveryCode)
PENDING_SIGNINS = _table(PendingSignIn)
PACKET_OUTBOX = _table(PacketDelivery)
