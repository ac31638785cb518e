#!/usr/bin/env bash
# Run `make test`'s stages, time each one and print the times at the end (also on failure).
#
#   scripts/test-stages.sh "FIRST STAGES" "LANE 1 STAGES" "LANE 2 STAGES"
#
# Each argument is a list of make targets run one after the other, stopping at the first failure.
# The first stages (lint, the model...) run before both lanes. TEST_JOBS=1 (the default) then
# runs lane 1, then lane 2. TEST_JOBS=2 runs the two lanes at the same
# time (the assistant's and the staff app's environments: no shared ports, files or databases):
# lane 1 prints as it goes, lane 2's output is shown when it ends (and kept in
# $VAR_DIR/test-lane2.log).
set -uo pipefail
cd "$(dirname "$0")/.."
VAR_DIR=${VAR_DIR:-$PWD/var}
TIMES=$(mktemp "${TMPDIR:-/tmp}/test-stages.XXXXXX")
trap 'rm -f "$TIMES"' EXIT

lane() {  # lane "STAGES": run each stage, record "stage seconds status"; 1 on the first failure
  local stage start status
  for stage in $1; do
    start=$(date +%s)
    ${MAKE:-make} --no-print-directory "$stage"
    status=$?
    echo "$stage $(( $(date +%s) - start )) $status" >>"$TIMES"
    [ "$status" = 0 ] || return 1
  done
}

report() {
  echo
  echo "==> stage times (TEST_JOBS=${TEST_JOBS:-1})"
  awk '{ printf "    %-18s %4d:%02d  %s\n", $1, $2 / 60, $2 % 60, ($3 == 0 ? "ok" : "FAILED") }' "$TIMES"
  echo "    total (wall)       $(( ($(date +%s) - T0) / 60 )):$(printf '%02d' $(( ($(date +%s) - T0) % 60 )))"
}

T0=$(date +%s)
if ! lane "$1"; then report; exit 1; fi
if [ "${TEST_JOBS:-1}" -ge 2 ]; then
  lane "$3" >"$VAR_DIR/test-lane2.log" 2>&1 &
  second=$!
  lane "$2"; first=$?
  wait "$second"; other=$?
  echo; echo "==> output of: $3"; cat "$VAR_DIR/test-lane2.log"
else
  lane "$2"; first=$?
  other=0
  [ "$first" = 0 ] && { lane "$3"; other=$?; }
fi
report
[ "$first" = 0 ] && [ "$other" = 0 ]
