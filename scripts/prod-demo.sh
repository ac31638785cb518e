#!/usr/bin/env bash
# Production mode on one machine, on loopback (`make prod-demo`; README "Production mode"):
#   PostgreSQL (tracker store, lock store, the staff app's tables) from Debian's packages,
#   nginx in front (from Debian's packages), PROD_RASA_PROCESSES Rasa servers sharing the
#   database (endpoints.prod.yml), one action server, the staff/demo web app.
# Ctrl-C (or SIGTERM) stops everything it started, PostgreSQL included; data are kept for the
# next run. PROD_BENCH=SECONDS measures throughput with all Rasa processes against the first
# one alone, in the same run (benchmarks/prod_bench.py), then keeps serving (PROD_EXIT=1: stop).
#
# Environment (all optional):
#   PROD_VAR_DIR          state, logs, secrets           default $VAR_DIR/prod (var/prod)
#   PROD_PG_DIR           PostgreSQL's data directory    default $PROD_VAR_DIR/pg, or, as root
#                         (the server runs as `postgres`, which cannot enter var/):
#                         /var/lib/postgresql/admissions-prod-demo
#   PROD_HTTP_PORT        nginx, public: page, chat, staff    8088
#   PROD_RASA_LB_PORT     nginx -> every Rasa process          5080
#   PROD_RASA_ONE_PORT    nginx -> the first Rasa process      5081  (benchmark)
#   PROD_RASA_PROCESSES   how many Rasa servers                2
#   PROD_RASA_BASE_PORT   Rasa server i listens on BASE+i      5110
#   PROD_ACTIONS_PORT     action server                        5155
#   PROD_WEB_PORT         web app (behind nginx)               8180
#   PROD_PG_PORT          PostgreSQL                           15432
#   (defaults stay below Linux's ephemeral range, 32768-60999, so no client socket takes them)
#   PROD_BENCH            seconds per configuration (0 = no measurement)     0
#   PROD_BENCH_VISITORS   concurrent visitors for the measurement            10
#   PROD_EXIT             1 = stop after the measurement                     0
# Secrets are generated on first run into $PROD_VAR_DIR/secrets (0600, never in the repo, never
# on a command line): the database roles' passwords as libpq password files (PGPASSFILE) and
# Rasa's JWT secret.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
umask 077

VAR_DIR=${VAR_DIR:-$ROOT/var}
P=${PROD_VAR_DIR:-$VAR_DIR/prod}
HTTP_PORT=${PROD_HTTP_PORT:-8088}
RASA_LB_PORT=${PROD_RASA_LB_PORT:-5080}
RASA_ONE_PORT=${PROD_RASA_ONE_PORT:-5081}
RASA_N=${PROD_RASA_PROCESSES:-2}
RASA_BASE=${PROD_RASA_BASE_PORT:-5110}
ACTIONS_PORT=${PROD_ACTIONS_PORT:-5155}
WEB_PORT=${PROD_WEB_PORT:-8180}
PG_PORT=${PROD_PG_PORT:-15432}
BENCH=${PROD_BENCH:-0}
BENCH_VISITORS=${PROD_BENCH_VISITORS:-10}
DB=admissions OWNER=admissions_owner APP_ROLE=admissions_app
MODEL=models/admissions.tar.gz

if [ "$(id -u)" = 0 ]; then SUDO=; AS_PG=(runuser -u postgres --); else SUDO=sudo; AS_PG=(); fi
if [ "$(id -u)" = 0 ]; then PG_DIR=${PROD_PG_DIR:-/var/lib/postgresql/admissions-prod-demo}
else PG_DIR=${PROD_PG_DIR:-$P/pg}; fi

say() { echo "==> $*"; }
die() { echo "error: $*" >&2; exit 1; }

[ -f "$MODEL" ] || die "no trained model at $MODEL: run make train (make prod-demo does)"
[ -x .venv/rasa/bin/python ] && [ -x .venv/app/bin/python ] || die "run make setup first"
[ "$RASA_N" -ge 1 ] 2>/dev/null || die "PROD_RASA_PROCESSES must be a number >= 1"

# ---------------------------------------------------------------- Debian packages
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
missing=()
[ -n "$(pg_bin)" ] || missing+=(postgresql)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null \
    || die "could not install ${missing[*]} with apt-get"
fi
PGB=$(pg_bin)
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# ---------------------------------------------------------------- ports
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ports=("PROD_HTTP_PORT:$HTTP_PORT" "PROD_RASA_LB_PORT:$RASA_LB_PORT" "PROD_RASA_ONE_PORT:$RASA_ONE_PORT"
       "PROD_ACTIONS_PORT:$ACTIONS_PORT" "PROD_WEB_PORT:$WEB_PORT" "PROD_PG_PORT:$PG_PORT")
for i in $(seq 0 $((RASA_N - 1))); do ports+=("PROD_RASA_BASE_PORT(+$i):$((RASA_BASE + i))"); done
for pv in "${ports[@]}"; do
  name=${pv%%:*}; port=${pv##*:}
  port_busy "$port" && die "port $port ($name) is already in use on 127.0.0.1; choose another, e.g. $name=$((port + 1000))"
done

# ---------------------------------------------------------------- state and secrets
mkdir -p "$P/logs" "$P/secrets" "$P/nginx"
chmod 700 "$VAR_DIR" "$P" 2>/dev/null || true
secret() {  # secret FILE: 32 random bytes as hex, made once
  [ -s "$1" ] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$1"
  chmod 600 "$1"
}
secret "$P/secrets/owner_password"
secret "$P/secrets/app_password"
secret "$P/secrets/rasa_jwt_secret"
# libpq password files (PGPASSFILE): URLs and command lines carry no password.
echo "127.0.0.1:$PG_PORT:$DB:$OWNER:$(cat "$P/secrets/owner_password")" >"$P/secrets/pgpass-owner"
echo "127.0.0.1:$PG_PORT:$DB:$APP_ROLE:$(cat "$P/secrets/app_password")" >"$P/secrets/pgpass-app"
chmod 600 "$P/secrets/pgpass-owner" "$P/secrets/pgpass-app"
OWNER_URL="postgresql://$OWNER@127.0.0.1:$PG_PORT/$DB"
APP_URL="postgresql://$APP_ROLE@127.0.0.1:$PG_PORT/$DB"

pids=()
pg_started=0
NGX_TMP=
cleanup() {
  trap - INT TERM EXIT
  echo; say "stopping"
  for pid in "${pids[@]}"; do kill -TERM "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 75); do
    alive=0; for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break; sleep 0.2
  done
  for pid in "${pids[@]}"; do kill -KILL "-$pid" 2>/dev/null || true; done
  if [ "$pg_started" = 1 ]; then "${AS_PG[@]}" "$PGB/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true; fi
  [ -n "$NGX_TMP" ] && rm -rf "$NGX_TMP"
  say "stopped (data kept in $PG_DIR and $P)"
}
trap 'cleanup; exit 0' INT TERM
trap cleanup EXIT

# ---------------------------------------------------------------- PostgreSQL
if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
  say "creating a PostgreSQL cluster in $PG_DIR/data"
  mkdir -p "$PG_DIR"; chmod 700 "$PG_DIR"
  [ "$(id -u)" = 0 ] && chown postgres: "$PG_DIR"
  # The superuser gets no password and no TCP login: only the local socket, for this script.
  "${AS_PG[@]}" "$PGB/initdb" -D "$PG_DIR/data" -U postgres --auth-local=peer --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >"$P/logs/initdb.log" 2>&1 || { tail -20 "$P/logs/initdb.log"; die "initdb failed"; }
fi
say "starting PostgreSQL on 127.0.0.1:$PG_PORT"
"${AS_PG[@]}" "$PGB/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
  -o "-h 127.0.0.1 -p $PG_PORT -k $PG_DIR -c max_connections=200" start >/dev/null \
  || { tail -20 "$PG_DIR/server.log" >&2; die "PostgreSQL did not start (log: $PG_DIR/server.log)"; }
pg_started=1
psql_su() { "${AS_PG[@]}" "$PGB/psql" -h "$PG_DIR" -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
role() {  # role NAME PASSWORD_FILE: create or update a login role (password on stdin only)
  psql_su -d postgres >/dev/null <<SQL
\\set name '$1'
\\set pw '$(cat "$2")'
SELECT format('CREATE ROLE %I LOGIN', :'name')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'name') \\gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'name', :'pw') \\gexec
SQL
}
role "$OWNER" "$P/secrets/owner_password"
role "$APP_ROLE" "$P/secrets/app_password"
if [ "$(psql_su -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
  psql_su -d postgres -c "CREATE DATABASE $DB OWNER $OWNER" >/dev/null
fi
psql_su -d "$DB" -c "REVOKE CREATE ON SCHEMA public FROM PUBLIC; GRANT USAGE, CREATE ON SCHEMA public TO $OWNER; GRANT USAGE ON SCHEMA public TO $APP_ROLE" >/dev/null

# ---------------------------------------------------------------- processes
start() {  # start NAME CMD... in its own process group, logging to $P/logs/NAME.log
  local name=$1; shift
  setsid "$@" >"$P/logs/$name.log" 2>&1 &
  pids+=($!)
}
wait_http() {  # wait_http NAME URL SECONDS
  local name=$1 url=$2 secs=$3
  for _ in $(seq 1 $((secs * 2))); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    for pid in "${pids[@]}"; do
      if ! kill -0 "$pid" 2>/dev/null; then
        echo "error: a process exited during start-up while waiting for $name; see $P/logs/" >&2
        tail -5 "$P"/logs/*.log >&2; return 1
      fi
    done
    sleep 0.5
  done
  echo "error: $name did not answer at $url within ${secs}s (logs: $P/logs/)" >&2; return 1
}

export TF_CPP_MIN_LOG_LEVEL=2 RASA_TELEMETRY_ENABLED=false PYTHONDONTWRITEBYTECODE=1
export FACILITY_FILE=${FACILITY_FILE:-$ROOT/facility.yml}
export SPACY_PIPELINE=${SPACY_PIPELINE:-$ROOT/build/spacy/admissions_en}

say "starting the action server on 127.0.0.1:$ACTIONS_PORT"
SANIC_HOST=127.0.0.1 start actions .venv/rasa/bin/rasa run actions --actions actions --port "$ACTIONS_PORT"

rasa_servers=""; mirrors=""; mirror_locations=""
for i in $(seq 0 $((RASA_N - 1))); do
  port=$((RASA_BASE + i))
  say "starting Rasa server $((i + 1)) of $RASA_N on 127.0.0.1:$port"
  PGPASSFILE="$P/secrets/pgpass-owner" TRACKER_DB_URL="$OWNER_URL" \
  ACTION_ENDPOINT_URL="http://127.0.0.1:$ACTIONS_PORT/webhook" TRACKER_SPOOL_DIR="$P/spool-$((i + 1))" \
  RASA_JWT_SECRET_FILE="$P/secrets/rasa_jwt_secret" \
    start "rasa-$((i + 1))" .venv/rasa/bin/python -m rasa_addons.serve run --model "$MODEL" \
    --enable-api --interface 127.0.0.1 --port "$port" --endpoints endpoints.prod.yml \
    --credentials credentials.yml --jwt-method HS256
  rasa_servers+="        server 127.0.0.1:$port;"$'\n'
  if [ "$i" -gt 0 ]; then
    mirrors+="            mirror /_mirror_model_$port;"$'\n'
    mirror_locations+="        location = /_mirror_model_$port { internal; proxy_pass http://127.0.0.1:$port/model; }"$'\n'
  fi
done

# nginx: its worker runs as an unprivileged user, which cannot enter var/ (0700): its
# temporary files live in a private directory of their own under /tmp.
NGX_TMP=$(mktemp -d /tmp/admissions-nginx.XXXXXX)
[ "$(id -u)" = 0 ] && chown www-data: "$NGX_TMP" 2>/dev/null || true
python3 - "$ROOT/scripts/nginx/prod-demo.conf.template" "$P/nginx/nginx.conf" <<PY
import sys
text = open(sys.argv[1]).read()
values = {
    "NGINX_DIR": "$P/nginx", "LOG_DIR": "$P/logs", "NGINX_TMP": "$NGX_TMP",
    "RASA_SERVERS": """${rasa_servers%$'\n'}""", "RASA_FIRST_PORT": "$RASA_BASE",
    "WEB_PORT": "$WEB_PORT", "HTTP_PORT": "$HTTP_PORT", "RASA_LB_PORT": "$RASA_LB_PORT",
    "RASA_ONE_PORT": "$RASA_ONE_PORT", "MODEL_MIRRORS": """${mirrors%$'\n'}""",
    "MIRROR_LOCATIONS": """${mirror_locations%$'\n'}""",
}
for key, value in values.items():
    text = text.replace(f"@{key}@", value)
open(sys.argv[2], "w").write(text)
PY
"$NGINX" -t -q -p "$P/nginx" -c "$P/nginx/nginx.conf" 2>"$P/logs/nginx-check.log" \
  || { cat "$P/logs/nginx-check.log" >&2; die "the nginx configuration was refused"; }
say "starting nginx on 127.0.0.1:$HTTP_PORT (Rasa pool on $RASA_LB_PORT)"
start nginx "$NGINX" -p "$P/nginx" -c "$P/nginx/nginx.conf"

wait_http "action server" "http://127.0.0.1:$ACTIONS_PORT/health" 120
for i in $(seq 0 $((RASA_N - 1))); do
  wait_http "Rasa server $((i + 1))" "http://127.0.0.1:$((RASA_BASE + i))/" 300
done

# The staff app's tables: migrated by the owner role; the app runs as a role that owns nothing
# (scripts/pg_app_role.py: it cannot drop the audit log's append-only triggers). The grants
# cover the tracker store's tables too, which Rasa (the owner) has created by now.
say "migrating the staff app's tables; granting $APP_ROLE its privileges"
PGPASSFILE="$P/secrets/pgpass-owner" .venv/app/bin/python -c \
  "import sys; from admissions.db import migrate; migrate.upgrade(sys.argv[1])" "$OWNER_URL" \
  >"$P/logs/migrate.log" 2>&1 || { tail -20 "$P/logs/migrate.log"; die "migrations failed"; }
PGPASSFILE="$P/secrets/pgpass-owner" APP_DB_URL="$OWNER_URL" .venv/app/bin/python scripts/pg_app_role.py "$APP_ROLE" \
  >>"$P/logs/migrate.log" 2>&1 || { tail -20 "$P/logs/migrate.log"; die "granting $APP_ROLE failed"; }

say "starting the web app on 127.0.0.1:$WEB_PORT (behind nginx)"
PGPASSFILE="$P/secrets/pgpass-app" APP_DB_URL="$APP_URL" TRACKER_DB_URL="$APP_URL" VAR_DIR="$P" \
RASA_URL="http://127.0.0.1:$RASA_LB_PORT" RASA_JWT_SECRET="$(cat "$P/secrets/rasa_jwt_secret")" \
ADMISSIONS_WEB_HOST=127.0.0.1 ADMISSIONS_WEB_PORT="$WEB_PORT" ADMISSIONS_WEB_TRUSTED_PROXIES=127.0.0.1 \
  start web .venv/app/bin/python -m admissions.web
wait_http "web app" "http://127.0.0.1:$HTTP_PORT/staff/health" 120
# Warm-up through nginx: every process loads its lazily built parts before a visitor comes.
for i in $(seq 1 $((RASA_N * 2))); do
  curl -fsS -o /dev/null -XPOST "http://127.0.0.1:$RASA_LB_PORT/webhooks/rest/webhook" \
    -d "{\"sender\":\"warm-up-$i\",\"message\":\"I work 9-5 monday to friday\"}" --max-time 60 || true
done

cat <<MSG

  Production mode is running (loopback only).
    Demo page:     http://127.0.0.1:$HTTP_PORT/
    Staff app:     http://127.0.0.1:$HTTP_PORT/staff/
                   create an account: PGPASSFILE=$P/secrets/pgpass-app APP_DB_URL=$APP_URL \\
                     .venv/app/bin/python -m admissions.web.cli create-user --username you --role admin
    Rasa pool:     http://127.0.0.1:$RASA_LB_PORT  ($RASA_N processes, PostgreSQL lock store)
    PostgreSQL:    127.0.0.1:$PG_PORT/$DB  (data: $PG_DIR; passwords: $P/secrets/pgpass-*)
    Logs:          $P/logs/
MSG

if [ "$BENCH" != 0 ]; then
  say "measuring: $RASA_N Rasa processes against 1, ${BENCH} s each, $BENCH_VISITORS visitors"
  PGPASSFILE="$P/secrets/pgpass-owner" .venv/rasa/bin/python -m benchmarks.prod_bench \
    --pool "http://127.0.0.1:$RASA_LB_PORT" --one "http://127.0.0.1:$RASA_ONE_PORT" \
    --processes "$RASA_N" --duration "$BENCH" --visitors "$BENCH_VISITORS" --db "$OWNER_URL" \
    || echo "warning: the measurement failed (see above)" >&2
  [ "${PROD_EXIT:-0}" = 1 ] && exit 0
fi
echo "  Press Ctrl-C to stop."
wait -n "${pids[@]}" || true
echo "error: a process exited; see $P/logs/" >&2
exit 1
