"""A training run's steps and their state, written to the run's database row as they change
(the runs page and ``make retrain`` show them)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from admissions.training import history

STEPS: tuple[tuple[str, str], ...] = (
    ("snapshot", "Copy the training data"),
    ("validate", "Check the training data (rasa data validate)"),
    ("train", "Train the model"),
    ("evaluate", "Test it: held-out set, crisis tables, test stories"),
    ("gate", "Quality gate"),
    ("promote", "Put it live"),
)


@dataclass
class Progress:
    """The run's steps and their state, written to the database as they change."""

    engine: AsyncEngine
    run_id: int
    steps: list[dict[str, Any]]
    echo: bool = False

    @classmethod
    def new(
        cls, engine: AsyncEngine, run_id: int, promote_step: bool, echo: bool = False
    ) -> Progress:
        """All steps pending (the promote step only when the run promotes)."""
        steps = [
            {"name": name, "label": label, "status": "pending", "seconds": None}
            for name, label in STEPS
            if name != "promote" or promote_step
        ]
        return cls(engine, run_id, steps, echo)

    def _step(self, name: str) -> dict[str, Any]:
        return next(s for s in self.steps if s["name"] == name)

    async def save(self, **values: Any) -> None:
        """Store the steps (and other run columns)."""
        async with self.engine.begin() as conn:
            await history.update_run(conn, self.run_id, steps=self.steps, **values)

    async def start(self, name: str) -> float:
        """Mark ``name`` running; returns its start time (for ``finish``)."""
        step = self._step(name)
        step["status"] = "running"
        if self.echo:
            print(f"==> {step['label']}", flush=True)
        await self.save(step=name)
        return time.monotonic()

    async def finish(self, name: str, started: float, status: str = "done", note: str = "") -> None:
        """Mark ``name`` done / failed / skipped with its duration."""
        step = self._step(name)
        step["status"] = status
        step["seconds"] = round(time.monotonic() - started, 1)
        if note:
            step["note"] = note
        if self.echo:
            extra = f"; {note}" if note else ""
            print(f"    {status} in {step['seconds']} s{extra}", flush=True)
        await self.save()

    async def fail(self, explanation: str) -> None:
        """The run failed: whatever was running failed too; store why."""
        for step in self.steps:
            if step["status"] == "running":
                step["status"] = "failed"
        async with self.engine.begin() as conn:
            await history.fail_run(conn, self.run_id, explanation, steps=self.steps)
