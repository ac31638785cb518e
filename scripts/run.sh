#!/usr/bin/env bash
# Start the whole system on this machine: action server, Rasa server, staff/demo web app.
# Called by `make run` (which has already built the environments, spaCy pipeline and model).
# Ctrl-C (or SIGTERM) stops every process it started; nothing is left on the ports.
set -euo pipefail
cd "$(dirname "$0")/.."
# Transcripts are health records: everything this script and its servers create (databases,
# logs, spool, secrets) is readable by this user only.
umask 077

# The command lines, environment defaults and default ports come from the launcher
# (scripts/stack.py), shared with the test harnesses and the benchmarks.
STACK=(.venv/app/bin/python scripts/stack.py)
# RASA_PORT, RASA_ALT_PORT, ACTIONS_PORT, WEB_PORT: the environment's, else the defaults. A model
# swap starts the new model in a second Rasa process on the other port (RASA_ALT_PORT), then
# stops the old one (admissions/training/serving.py); var/rasa-serving.json says which serves.
# ADMISSIONS_MODEL: the model Rasa loads (default models/admissions.tar.gz).
eval "$("${STACK[@]}" settings)"
argv() { mapfile -d '' -t "$1" < <("${STACK[@]}" argv "${@:2}"); }  # argv VAR SERVER [OPTIONS]
VAR_DIR=${VAR_DIR:-$PWD/var}
mkdir -p "$VAR_DIR/logs"

# Files made before this check (an older version, another umask, a copied var/) may be readable
# by other local users: say which, and make them owner-only before any server opens them.
loose=$(find "$VAR_DIR" -perm /go=rwx -printf '%m %p\n' 2>/dev/null || true)
if [ -n "$loose" ]; then
  echo "warning: these files under $VAR_DIR could be read by other local users; making them owner-only:" >&2
  echo "$loose" | head -20 | sed 's/^/    /' >&2
  [ "$(echo "$loose" | wc -l)" -gt 20 ] && echo "    ... and $(( $(echo "$loose" | wc -l) - 20 )) more" >&2
  if ! chmod -R go-rwx "$VAR_DIR"; then
    echo "error: could not change the modes under $VAR_DIR (owned by another user?); fix them first:" >&2
    echo "  chmod -R go-rwx $VAR_DIR" >&2
    exit 1
  fi
fi

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for pv in "RASA_PORT:$RASA_PORT" "RASA_ALT_PORT:$RASA_ALT_PORT" "ACTIONS_PORT:$ACTIONS_PORT" "WEB_PORT:$WEB_PORT"; do
  name=${pv%%:*}; port=${pv#*:}
  if port_busy "$port"; then
    echo "error: port $port ($name) is already in use on 127.0.0.1." >&2
    echo "  Stop whatever uses it, or choose another port, e.g.: make run $name=$((port + 1))" >&2
    exit 1
  fi
done

SERVING_FILE="$VAR_DIR/rasa-serving.json"
export RASA_SERVING_FILE="$SERVING_FILE"
serving() {  # serving COMMAND [OPTIONS] [-- RASA ARGV]
  local command=$1; shift
  .venv/app/bin/python -m admissions.training.serving "$command" --state "$SERVING_FILE" "$@"
}

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo; echo "==> stopping"
  serving stop-all 2>/dev/null &  # the serving Rasa process and any still draining
  # ...and the first one, should the helper fail (only while it still is that Rasa server).
  if [ -n "${RASA_FIRST_PID:-}" ] && grep -qs rasa_addons.serve "/proc/$RASA_FIRST_PID/cmdline"; then
    kill -TERM "-$RASA_FIRST_PID" 2>/dev/null || true
  fi
  for pid in "${pids[@]}"; do kill -TERM "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    alive=0; for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break; sleep 0.2
  done
  for pid in "${pids[@]}"; do kill -KILL "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "==> stopped"
}
trap 'cleanup; exit 0' INT TERM
trap cleanup EXIT

start() {  # start NAME CMD... in its own process group, logging to var/logs/NAME.log
  local name=$1; shift
  setsid "$@" >"$VAR_DIR/logs/$name.log" 2>&1 &
  pids+=($!)
}

wait_http() {  # wait_http NAME URL SECONDS
  local name=$1 url=$2 secs=$3
  for _ in $(seq 1 $((secs * 2))); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then return 0; fi
    for pid in "${pids[@]}"; do
      if ! kill -0 "$pid" 2>/dev/null; then
        echo "error: $name exited during start-up; last lines of $VAR_DIR/logs/$name.log:" >&2
        tail -20 "$VAR_DIR/logs/$name.log" >&2; return 1
      fi
    done
    if [ "$name" = "Rasa server" ] && ! rasa_alive; then
      echo "error: $name exited during start-up; last lines of $VAR_DIR/logs/rasa.log:" >&2
      tail -20 "$VAR_DIR/logs/rasa.log" >&2; return 1
    fi
    sleep 0.5
  done
  echo "error: $name did not answer at $url within ${secs}s (log: $VAR_DIR/logs/$name.log)" >&2
  return 1
}

# Rasa's HTTP API is protected by a JWT (never a token in the URL); the secret is made once and
# never put on a command line (`ps` shows those to every local user): Rasa reads it from the
# 0600 file (rasa_addons/serve.py), the web app from its environment.
JWT_FILE="$VAR_DIR/rasa_jwt_secret"
[ -s "$JWT_FILE" ] || (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$JWT_FILE")
RASA_JWT_SECRET=$(cat "$JWT_FILE")

echo "==> starting the action server on 127.0.0.1:$ACTIONS_PORT"
# SANIC_HOST: rasa_sdk binds 0.0.0.0 by default; only Rasa on this machine may call actions.
argv ACTIONS_ARGV actions --port "$ACTIONS_PORT"
SANIC_HOST=127.0.0.1 start actions "${ACTIONS_ARGV[@]}"
echo "==> starting the Rasa server on 127.0.0.1:$RASA_PORT"
argv RASA_ARGV rasa --serve --model "$ADMISSIONS_MODEL" --port "$RASA_PORT"
argv RASA_TEMPLATE rasa --serve --model '{model}' --port '{port}'
RASA_JWT_SECRET_FILE="$JWT_FILE" setsid "${RASA_ARGV[@]}" >"$VAR_DIR/logs/rasa.log" 2>&1 &
RASA_FIRST_PID=$!  # not in pids: a model swap replaces it (the serving file names the current one)
# Record how Rasa was started ({port} and {model} filled in per process), so a model swap
# starts the next one the same way; swapped-in processes log to var/logs/rasa-PORT.log.
RASA_JWT_SECRET_FILE="$JWT_FILE" serving register --pid "$RASA_FIRST_PID" --port "$RASA_PORT" \
  --ports "$RASA_PORT,$RASA_ALT_PORT" --model "$ADMISSIONS_MODEL" --log-dir "$VAR_DIR/logs" \
  -- "${RASA_TEMPLATE[@]}" >/dev/null
# The serving process's pid: the top-level "pid" of the serving file (indent 1; no Python).
rasa_alive() {
  local p; p=$(sed -n 's/^ "pid": \([0-9]*\).*/\1/p' "$SERVING_FILE" 2>/dev/null)
  [ -n "$p" ] && kill -0 "$p" 2>/dev/null && ! grep -qs ") [ZX] " "/proc/$p/stat"
}
if [ -f admissions/web/main.py ]; then
  argv WEB_ARGV web
  echo "==> starting the web app on 127.0.0.1:$WEB_PORT"
  RASA_URL="http://127.0.0.1:$RASA_PORT" RASA_JWT_SECRET="$RASA_JWT_SECRET" ADMISSIONS_WEB_PORT=$WEB_PORT \
    start web "${WEB_ARGV[@]}"
fi

wait_http "action server" "http://127.0.0.1:$ACTIONS_PORT/health" 60
wait_http "Rasa server" "http://127.0.0.1:$RASA_PORT/" 180
# Warm-up: the first message loads lazily-built parts; no visitor should wait for that.
curl -fsS -o /dev/null -XPOST "http://127.0.0.1:$RASA_PORT/webhooks/rest/webhook" \
  -d '{"sender":"warm-up","message":"hi"}' --max-time 60 || true
if [ -f admissions/web/main.py ]; then wait_http "web app" "http://127.0.0.1:$WEB_PORT/staff/health" 60; fi

cat <<MSG

  The admissions assistant is running.
    Chat (REST):   curl -s -XPOST http://127.0.0.1:$RASA_PORT/webhooks/rest/webhook -d '{"sender":"t1","message":"hi"}'
MSG
if [ -f admissions/web/main.py ]; then
cat <<MSG
    Demo page:     http://127.0.0.1:$WEB_PORT/
    Staff app:     http://127.0.0.1:$WEB_PORT/staff/   (create an account: make admin NAME=you)
MSG
fi
echo "    Logs:          $VAR_DIR/logs/"
echo "    Model swaps move Rasa between ports $RASA_PORT and $RASA_ALT_PORT; the chat proxy follows"
echo "    $SERVING_FILE (\"url\")."
echo "  Press Ctrl-C to stop."
# Watch the action server, the web app and whichever Rasa process serves now (a swap replaces
# it; the serving file names the new one before the old one stops).
while true; do
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || break 2; done
  rasa_alive || { sleep 1; rasa_alive; } || break
  sleep 2 & wait $! || true
done
echo "error: a process exited; see $VAR_DIR/logs/" >&2
