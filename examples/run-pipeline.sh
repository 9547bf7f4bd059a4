#!/bin/sh
# run-pipeline.sh - make -f examples/pipeline.mk, exiting with the status of
# the program that failed instead of make's 2.
#
# usage: run-pipeline.sh [VARIABLE=value...] [target...]
#
# The arguments go to make as they are.  make exits 2 for every failed
# recipe; pipeline.mk writes the status of the load that failed (65 bad
# data, 75 try again later, 74 I/O, ...) to the file named by its STATUS
# variable, and this script exits with it, so that cron, systemd or an
# orchestrator can tell a failure worth a retry (75) from one that needs a
# person (65).  When make failed before any load did (a missing file, a
# bad target), the status is make's own.

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd) || exit 70
status=$(mktemp "${TMPDIR:-/tmp}/run-pipeline.XXXXXX") || exit 73
trap 'rm -f -- "$status"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

st=0
${MAKE:-make} --no-print-directory -f "$here/pipeline.mk" STATUS="$status" "$@" || st=$?
if [ "$st" -ne 0 ] && [ -s "$status" ]; then
	st=$(cat -- "$status")
fi
exit "$st"
