#!/bin/sh
# A `keyreq bench` killed with SIGKILL leaves no provider daemon behind: the
# daemons it starts (and the `keyreq serve` of its herds) get
# PR_SET_PDEATHSIG from the platform kit's launcher, so the kernel ends them
# with their parent.
#   bench_kill_test.sh BIN_DIR
# Waits until bench has a socket daemon running under its work directory,
# kills bench with SIGKILL, then checks that nothing started under that
# directory is still alive 5 s later.
set -u
bin=$1
fail() { echo "bench_kill_test: $*" >&2; exit 1; }

tmp=$(mktemp -d /tmp/keyreq-bench-kill-XXXXXX) || fail "cannot make a temporary directory"
# Processes whose command line names our private directory: what bench started.
started_here() { pgrep -f -- "$tmp/" || true; }
cleanup() {
  for pid in $(started_here); do kill -9 "$pid" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

"$bin/keyreq" bench --profile smoke --providers reference --no-micro --no-progress --workdir "$tmp" \
  --out "$tmp/out" >"$tmp/bench.log" 2>&1 &
bench=$!

# Up to 60 s for a socket daemon (a process with --socket under $tmp other than bench).
daemon=""
i=0
while [ $i -lt 600 ] && [ -z "$daemon" ]; do
  kill -0 "$bench" 2>/dev/null || { cat "$tmp/bench.log" >&2; fail "keyreq bench ended before starting a daemon"; }
  daemon=$(pgrep -f -- "--socket $tmp/" | grep -vx "$bench" | head -n 1)
  [ -n "$daemon" ] || { sleep 0.1; i=$((i + 1)); }
done
[ -n "$daemon" ] || fail "no socket daemon under $tmp within 60 s"

kill -9 "$bench"
wait "$bench" 2>/dev/null

i=0
while [ $i -lt 50 ] && [ -n "$(started_here)" ]; do
  sleep 0.1
  i=$((i + 1))
done
left=$(started_here)
if [ -n "$left" ]; then
  for pid in $left; do ps -o pid=,ppid=,args= -p "$pid" >&2; done
  fail "processes started by the killed keyreq bench outlived it (pids $(echo $left))"
fi
echo "bench_kill_test: daemon $daemon ended with keyreq bench"
