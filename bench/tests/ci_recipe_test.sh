#!/bin/sh
# docs/ci.md's recipe, run as written: the script between the ci-recipe
# markers is extracted from the page and run against the reference provider
# (keyreq-provider) over exec and over its socket daemon.
#   ci_recipe_test.sh BIN_DIR SOURCE_ROOT
# 1st run: no baseline yet -> exit 2, "no baseline", reports and JUnit written.
# 2nd run: with the 1st report committed as the baseline -> the gate passes (exit 0).
set -u
bin=$1
src=$2
fail() { echo "ci_recipe_test: $*" >&2; exit 1; }

tmp=$(mktemp -d /tmp/keyreq-ci-recipe-XXXXXX) || fail "cannot make a temporary directory"
trap 'rm -rf "$tmp"' EXIT

# The recipe: the lines between the markers, without the code fence.
sed -n '/<!-- ci-recipe:begin -->/,/<!-- ci-recipe:end -->/p' "$src/docs/ci.md" | grep -v '^<!--' | grep -v '^```' \
  >"$tmp/keyreq.sh"
[ -s "$tmp/keyreq.sh" ] || fail "no script between the ci-recipe markers in docs/ci.md"
# Both CI jobs run that script.
[ "$(grep -c 'sh ci/keyreq.sh' "$src/docs/ci.md")" -ge 2 ] || fail "a CI job in docs/ci.md does not run ci/keyreq.sh"

"$bin/keyreq" bench --help 2>&1 | grep -q -- '--exec' ||
  fail "keyreq bench has no --exec option: the recipe needs 'keyreq bench --exec CMD' (issue 10)"
"$bin/keyreq" dataset --agents 200 --sqlite "$tmp/agents.db" >/dev/null || fail "keyreq dataset failed"

export KEYREQ="$bin/keyreq"
export PROVIDER_NAME=fixture-provider
export PROVIDER_CMD="$bin/keyreq-provider --db $tmp/agents.db"
export PROVIDER_SOCKET="$tmp/provider.sock"
export PROVIDER_SOCKET_CMD="$bin/keyreq-provider --db $tmp/agents.db --socket $tmp/provider.sock"
export DATASET="$tmp/agents.db"
export BASELINE="$tmp/keyreq-baseline/report.json"

run() {  # run NAME: the recipe with OUT and SUMMARY of its own; prints the exit status
  OUT="$tmp/$1" SUMMARY="$tmp/$1-summary.md" sh "$tmp/keyreq.sh" >"$tmp/$1.log" 2>&1
  echo $?
}
show() { echo "---- $1" >&2; cat "$tmp/$1" >&2; }

status=$(run first)
[ "$status" = 2 ] || { show first.log; fail "first run (no baseline): exit $status, expected 2"; }
grep -q "no baseline at $BASELINE" "$tmp/first-summary.md" || { show first-summary.md; fail "no 'no baseline' line"; }
[ -s "$tmp/first/certify-junit.xml" ] || fail "certify wrote no JUnit file"
grep -q '<testcase' "$tmp/first/certify-junit.xml" || fail "the JUnit file has no testcase"
[ -s "$tmp/first/bench/report.json" ] || { show first.log; fail "bench wrote no report.json"; }

mkdir -p "$(dirname "$BASELINE")" && cp "$tmp/first/bench/report.json" "$BASELINE"
status=$(run second)
[ "$status" = 0 ] || { show second.log; show second-summary.md; fail "second run (unchanged provider): exit $status, expected 0"; }
grep -q '## keyreq gate: PASS' "$tmp/second-summary.md" || { show second-summary.md; fail "no gate verdict in the summary"; }
grep -q "$PROVIDER_NAME/" "$tmp/second-summary.md" || { show second-summary.md; fail "the provider's figures are not in the summary"; }
echo "ci_recipe_test: ok"
