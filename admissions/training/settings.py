"""Where the retraining loop finds the project, Rasa and the databases (from the environment)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from admissions.settings_env import number, path

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class TrainingSettings:
    """Paths, the Rasa server, the inbox threshold and the quality gate's limits.

    Paths are absolute. ``project`` is the folder Rasa commands run in (custom components such
    as ``rasa_addons.crisis_guard`` are imported from there).
    """

    project: Path = REPO
    data_dir: Path = REPO / "data"
    domain: Path = REPO / "domain.yml"
    config: Path = REPO / "config.yml"
    heldout_dir: Path = REPO / "tests" / "nlu"
    stories_dir: Path = REPO / "tests" / "stories"
    crisis_cases: Path = REPO / "tests" / "admissions" / "crisis_cases.yml"
    live_model: Path = REPO / "models" / "admissions.tar.gz"
    history_dir: Path = REPO / "models" / "history"
    work_dir: Path = REPO / "var" / "training"
    rasa_bin: Path = REPO / ".venv" / "rasa" / "bin" / "rasa"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_jwt_secret: str | None = None  # HS256 secret shared with `rasa run --jwt-secret`
    rasa_auth_token: str | None = None  # legacy `rasa run --auth-token` (used when no JWT)
    app_db_url: str = "sqlite:///var/admissions.db"
    tracker_db_url: str = "sqlite:///var/tracker.db"
    # Inbox: visitor messages whose top intent confidence is below this (fallbacks always).
    inbox_threshold: float = 0.6
    inbox_scan_limit: int = 5000  # newest candidate messages looked at per inbox page
    # Training
    mode: str = "auto"  # auto (fine-tune when Rasa allows it, else full) | full | finetune
    epoch_fraction: float = 0.2
    rasa_env: Mapping[str, str] = field(default_factory=dict)  # extra env for Rasa commands
    step_timeout_seconds: float = 3600.0
    # Quality gate (F1 as fractions: 0.005 = half a percentage point)
    max_macro_f1_drop: float = 0.005
    max_intent_f1_drop: float = 0.03
    min_intent_error_increase: int = 2  # 1 = the literal per-intent rule (see gate.py)
    min_crisis_recall: float = 1.0
    # Serving: the file that says which Rasa process serves (and how to start another),
    # shared with the web app's chat proxy; a swap drains the old process this long.
    serving_file: Path = REPO / "var" / "rasa-serving.json"
    drain_seconds: float = 12.0
    start_timeout_seconds: float = 300.0
    # Training never starves serving: Rasa commands run under `nice` with few TF threads.
    nice: int = 19
    tf_threads: int = 2
    # Promote by copying the file only, without asking a Rasa server to load it: `make run`
    # and `make train` retrain through the gate before Rasa starts (it loads the file then).
    promote_offline: bool = False

    @property
    def gated_marker(self) -> Path:
        """Holds the SHA-256 of the live model while it came through the staff loop."""
        return self.live_model.parent / (self.live_model.name + ".gated")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, root: Path = REPO) -> TrainingSettings:
        """Read ``RASA_URL`` (or ``RASA_PORT``), ``RASA_JWT_SECRET``, ``NLU_INBOX_THRESHOLD``..."""
        env = os.environ if env is None else env
        rasa_url = env.get("RASA_URL", "").strip().rstrip("/")
        if not rasa_url:
            rasa_url = f"http://127.0.0.1:{env.get('RASA_PORT', '').strip() or '5005'}"
        mode = env.get("TRAINING_MODE", "auto").strip() or "auto"
        if mode not in ("auto", "full", "finetune"):
            raise ValueError(f"TRAINING_MODE must be auto, full or finetune, got {mode!r}")
        models = path(env, "MODELS_DIR", root / "models", root)
        extra = {k: env[k] for k in ("SPACY_PIPELINE", "RASA_CACHE_DIRECTORY") if env.get(k)}
        work_dir = path(env, "TRAINING_WORK_DIR", root / "var" / "training", root)
        # The serving file lives in var/ beside the work dir: a sandboxed work dir (tests)
        # never reaches a real serving file unless RASA_SERVING_FILE names it.
        var_dir = (
            work_dir.parent
            if env.get("TRAINING_WORK_DIR", "").strip()
            else path(env, "VAR_DIR", root / "var", root)
        )
        return cls(
            project=path(env, "TRAINING_PROJECT_DIR", root, root),
            data_dir=path(env, "TRAINING_DATA_DIR", root / "data", root),
            domain=path(env, "TRAINING_DOMAIN", root / "domain.yml", root),
            config=path(env, "TRAINING_CONFIG", root / "config.yml", root),
            heldout_dir=path(env, "TRAINING_HELDOUT_DIR", root / "tests" / "nlu", root),
            stories_dir=path(env, "TRAINING_STORIES_DIR", root / "tests" / "stories", root),
            crisis_cases=path(
                env,
                "TRAINING_CRISIS_CASES",
                root / "tests" / "admissions" / "crisis_cases.yml",
                root,
            ),
            live_model=path(env, "LIVE_MODEL", models / "admissions.tar.gz", root),
            history_dir=path(env, "MODEL_HISTORY_DIR", models / "history", root),
            work_dir=work_dir,
            rasa_bin=path(env, "RASA_BIN", root / ".venv" / "rasa" / "bin" / "rasa", root),
            rasa_url=rasa_url,
            rasa_jwt_secret=env.get("RASA_JWT_SECRET") or None,
            rasa_auth_token=env.get("RASA_AUTH_TOKEN") or None,
            app_db_url=env.get("APP_DB_URL") or cls.app_db_url,
            tracker_db_url=env.get("TRACKER_DB_URL") or cls.tracker_db_url,
            inbox_threshold=number(env, "NLU_INBOX_THRESHOLD", cls.inbox_threshold, 0.0, 1.0),
            mode=mode,
            epoch_fraction=number(env, "TRAINING_EPOCH_FRACTION", cls.epoch_fraction, 0.01, 5.0),
            rasa_env=extra,
            serving_file=path(env, "RASA_SERVING_FILE", var_dir / "rasa-serving.json", root),
            drain_seconds=number(env, "RASA_DRAIN_SECONDS", cls.drain_seconds, 0, 600),
            nice=int(number(env, "TRAINING_NICE", cls.nice, 0, 19)),
            tf_threads=int(number(env, "TRAINING_TF_THREADS", cls.tf_threads, 1, 64)),
            max_macro_f1_drop=number(env, "GATE_MAX_MACRO_F1_DROP", cls.max_macro_f1_drop, 0, 1),
            max_intent_f1_drop=number(env, "GATE_MAX_INTENT_F1_DROP", cls.max_intent_f1_drop, 0, 1),
            min_intent_error_increase=int(
                number(
                    env,
                    "GATE_MIN_INTENT_ERROR_INCREASE",
                    cls.min_intent_error_increase,
                    1,
                    1000,
                )
            ),
        )

    def to_env(self) -> dict[str, str]:
        """These settings as the environment ``from_env`` reads (for the background job)."""
        env = {
            "TRAINING_PROJECT_DIR": str(self.project),
            "TRAINING_DATA_DIR": str(self.data_dir),
            "TRAINING_DOMAIN": str(self.domain),
            "TRAINING_CONFIG": str(self.config),
            "TRAINING_HELDOUT_DIR": str(self.heldout_dir),
            "TRAINING_STORIES_DIR": str(self.stories_dir),
            "TRAINING_CRISIS_CASES": str(self.crisis_cases),
            "LIVE_MODEL": str(self.live_model),
            "MODEL_HISTORY_DIR": str(self.history_dir),
            "TRAINING_WORK_DIR": str(self.work_dir),
            "RASA_BIN": str(self.rasa_bin),
            "RASA_URL": self.rasa_url,
            "APP_DB_URL": self.app_db_url,
            "TRACKER_DB_URL": self.tracker_db_url,
            "NLU_INBOX_THRESHOLD": str(self.inbox_threshold),
            "TRAINING_MODE": self.mode,
            "TRAINING_EPOCH_FRACTION": str(self.epoch_fraction),
            "GATE_MAX_MACRO_F1_DROP": str(self.max_macro_f1_drop),
            "GATE_MAX_INTENT_F1_DROP": str(self.max_intent_f1_drop),
            "GATE_MIN_INTENT_ERROR_INCREASE": str(self.min_intent_error_increase),
            "RASA_SERVING_FILE": str(self.serving_file),
            "RASA_DRAIN_SECONDS": str(self.drain_seconds),
            "TRAINING_NICE": str(self.nice),
            "TRAINING_TF_THREADS": str(self.tf_threads),
            **self.rasa_env,
        }
        if self.rasa_jwt_secret:
            env["RASA_JWT_SECRET"] = self.rasa_jwt_secret
        if self.rasa_auth_token:
            env["RASA_AUTH_TOKEN"] = self.rasa_auth_token
        return env

    @property
    def nlu_dir(self) -> Path:
        """Where the NLU training files are (``data/nlu``)."""
        return self.data_dir / "nlu"

    def with_changes(self, **changes: object) -> TrainingSettings:
        """A copy with some fields changed (tests)."""
        return replace(self, **changes)  # type: ignore[arg-type]
