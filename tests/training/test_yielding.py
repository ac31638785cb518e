"""A background command pauses while a serving process works, and always ends up running."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from admissions.training.yielding import Yielder


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def test_the_command_pauses_while_serving_is_busy_and_resumes_after() -> None:
    background = subprocess.Popen(
        [sys.executable, "-c", "import time\nwhile True: time.sleep(0.01)"],
        start_new_session=True,
    )
    serving = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\ntime.sleep(1)\nt=time.time()\nwhile time.time()-t<1.5: pass\ntime.sleep(60)",
        ]
    )
    yielder = Yielder(background.pid, lambda: [serving.pid], min_run=0.0)
    yielder.start()
    try:
        time.sleep(0.6)
        assert _state(background.pid) != "T"  # serving idle: it runs
        time.sleep(1.2)
        assert _state(background.pid) == "T"  # serving busy: paused
        time.sleep(1.5)
        assert _state(background.pid) != "T"  # idle again: resumed
        assert yielder.pauses >= 1
    finally:
        yielder.stop()
        serving.kill()
        assert _state(background.pid) != "T"  # never left stopped
        background.kill()
        background.wait()
        serving.wait()
