#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL server on loopback for tests (Debian's packages).
#   scripts/pg-scratch.sh start DIR PORT   -> prints a postgresql:// URL of an empty database
#   scripts/pg-scratch.sh stop DIR
#   scripts/pg-scratch.sh pause DIR / resume DIR   (stop and restart the server, data kept)
# Installs the `postgresql` package with apt-get when it is missing. Runs the server as the
# `postgres` user because PostgreSQL refuses to run as root.
set -euo pipefail
cmd=$1; dir=$2
bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
case "$cmd" in
  start)
    port=${3:-54329}
    if [ -z "$(bin)" ]; then
      echo "==> installing Debian package: postgresql" >&2
      if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
      $SUDO apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
    fi
    B=$(bin)
    rm -rf "$dir"; mkdir -p "$dir"
    as_pg=()
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; as_pg=(runuser -u postgres --); fi
    "${as_pg[@]}" "$B/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
    "${as_pg[@]}" "$B/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-h 127.0.0.1 -p $port -k $dir" start >/dev/null
    echo "-h 127.0.0.1 -p $port -k $dir" >"$dir/options"
    "${as_pg[@]}" "$B/createdb" -h 127.0.0.1 -p "$port" -U postgres scratch
    echo "postgresql://postgres@127.0.0.1:$port/scratch"
    ;;
  pause|resume)
    B=$(bin); as_pg=(); [ "$(id -u)" = 0 ] && as_pg=(runuser -u postgres --)
    if [ "$cmd" = pause ]; then "${as_pg[@]}" "$B/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    else "${as_pg[@]}" "$B/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "$(cat "$dir/options")" -w start >/dev/null; fi
    ;;
  stop)
    B=$(bin); as_pg=(); [ "$(id -u)" = 0 ] && as_pg=(runuser -u postgres --)
    [ -d "$dir/data" ] && "${as_pg[@]}" "$B/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
esac
