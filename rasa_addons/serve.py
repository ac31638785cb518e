"""Run Rasa's command line with the JWT secret kept off the command line.

``rasa run --jwt-secret S`` puts ``S`` in ``/proc/<pid>/cmdline``, which ``ps`` shows to every
local user. ``python -m rasa_addons.serve run ...`` takes the secret from the file named by
``$RASA_JWT_SECRET_FILE`` (which must not be readable by group or others) or else from
``$RASA_JWT_SECRET``, and hands it to Rasa's argument parser inside the process: the kernel's
copy of the argument list, the one ``ps`` reads, never holds it. The variable is removed from
the environment before Rasa starts, so nothing Rasa starts inherits it.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import MutableMapping
from pathlib import Path

SECRET_FILE_ENV = "RASA_JWT_SECRET_FILE"  # noqa: S105 - a variable name
SECRET_ENV = "RASA_JWT_SECRET"  # noqa: S105 - a variable name


class SecretError(RuntimeError):
    """The secret file is missing, empty or readable by other local users."""


def read_secret(environ: MutableMapping[str, str] = os.environ) -> str | None:
    """The JWT secret from ``$RASA_JWT_SECRET_FILE`` or ``$RASA_JWT_SECRET`` (removed), or None."""
    path = environ.pop(SECRET_FILE_ENV, None)
    from_env = environ.pop(SECRET_ENV, None)
    if path:
        mode = stat.S_IMODE(os.stat(path).st_mode)
        if mode & 0o077:
            raise SecretError(
                f"{path} is readable by other local users (mode {mode:04o}); run: chmod 600 {path}"
            )
        secret = Path(path).read_text().strip()
        if not secret:
            raise SecretError(f"{path} is empty")
        return secret
    return from_env or None


def rasa_argv(argv: list[str], secret: str | None) -> list[str]:
    """Rasa's argument list with the secret added (refuses a secret already on the line)."""
    if any(arg == "--jwt-secret" or arg.startswith("--jwt-secret=") for arg in argv):
        raise SecretError("pass the JWT secret through RASA_JWT_SECRET_FILE, not --jwt-secret")
    return [*argv, "--jwt-secret", secret] if secret else list(argv)


def main() -> None:
    """``python -m rasa_addons.serve <rasa arguments>``: run Rasa with the secret added."""
    try:
        secret = read_secret()
        args = rasa_argv(sys.argv[1:], secret)
    except (OSError, SecretError) as exc:
        sys.exit(f"error: {exc}")
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *args]  # Python's own copy: /proc/<pid>/cmdline is unchanged
    rasa_main()


if __name__ == "__main__":
    main()
