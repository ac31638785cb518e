#!/usr/bin/env bash
# Install a hashed lock file into a virtual environment: scripts/install-lock.sh PYTHON LOCKFILE
#
# With uv (requirements/tools.lock, put in .venv/tools on first use) rather than pip: on this
# project's 2-core machines uv installs the assistant environment from an empty cache in ~30 s
# alone (30-75 s beside `make test`'s first stages) where pip took ~100 s, and that install is
# the first step of `make test`'s longest chain (environment -> model -> suites).
# Same lock, same hashes, same wheels, --no-deps; uv compiles the bytecode (pip did it by default,
# and machines that set PYTHONDONTWRITEBYTECODE would otherwise import Rasa at half speed).
# uv does not read pip.conf: a machine that reaches PyPI only through pip's configured index sees
# uv fail, and pip then installs the same lock (a line says so).
set -euo pipefail
py=$1 lock=$2
cd "$(dirname "$0")/.."
tools=.venv/tools uv=.venv/tools/bin/uv
mkdir -p .venv
# Both environments are installed side by side by `make test`: one of them puts uv in place.
exec 9>.venv/.tools.lock
flock 9
if [ ! -x "$uv" ] || [ requirements/tools.lock -nt "$uv" ]; then
  rm -rf "$tools"
  if ! "$py" -m pip install -q --no-warn-script-location --require-hashes --no-deps \
      --target "$tools" -r requirements/tools.lock >"$tools.log" 2>&1; then
    echo "    could not install uv (see $tools.log); installing with pip instead"
    rm -rf "$tools"
  fi
  if [ -x "$uv" ]; then touch "$uv" && rm -f "$tools.log"; fi
fi
flock -u 9
if [ -x "$uv" ]; then
  if UV_LINK_MODE=copy "$uv" pip install -q --python "$py" --require-hashes --no-deps \
      --compile-bytecode -r "$lock"; then
    exit 0
  fi
  echo "    uv could not install $lock (above); trying pip"
fi
"$py" -m pip install -q --require-hashes --no-deps -r "$lock" 2>&1 |
  { grep -v -e 'is ignored: it is neither' -e '^DEPRECATION' -e 'pip 23.1 will enforce' \
            -e 'legacy .setup.py install' || true; }
exit "${PIPESTATUS[0]}"
