#!/usr/bin/env bash
# Lists the functions of production code longer than a limit (issue 14: none
# over 120 lines). Production code is every .cpp/.hpp of the repository except
# tests (*/tests/), fixtures/ and build trees. Function extents come from
# universal-ctags (its `end:` field), so nothing has to be compiled; a lambda
# counts as its own function and is named after the one that holds it.
#
#   scripts/long-functions.sh [--limit N] [DIR]
#
# Prints `file:line: name: N lines (limit L)` for each, longest first.
# Exit 0: none; 1: some are too long; 2: usage error; 3: ctags missing.
set -euo pipefail

limit=120
root="$(cd "$(dirname "$0")/.." && pwd)"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --limit)
      [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]*$ ]] || { echo "long-functions.sh: --limit needs a positive integer" >&2; exit 2; }
      limit="$2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "long-functions.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) [[ -d "$1" ]] || { echo "long-functions.sh: '$1' is not a directory" >&2; exit 2; }
       root="$(cd "$1" && pwd)"; shift ;;
  esac
done

ctags_bin="$(command -v ctags-universal || command -v ctags || true)"
if [[ -z "$ctags_bin" ]] || ! "$ctags_bin" --version 2>/dev/null | grep -q "Universal Ctags"; then
  echo "long-functions.sh: universal-ctags is needed (Debian package universal-ctags, scripts/bootstrap.sh)" >&2
  exit 3
fi

cd "$root"
mapfile -d '' files < <(find . \( -path ./build -o -path ./.git -o -path ./fixtures -o -name tests \) -prune -o \
                             -type f \( -name '*.cpp' -o -name '*.hpp' \) -print0 | sort -z)
[[ ${#files[@]} -gt 0 ]] || { echo "long-functions.sh: no .cpp/.hpp file under $root" >&2; exit 2; }

# One tag a line: name, file, ..., line:N, [scope], end:M. Lambdas are
# "__anon…" tags; they are named after their enclosing function's scope.
report="$("$ctags_bin" --languages=C++ --kinds-C++=f --fields=+ne --extras=-F -o - "${files[@]}" |
  awk -F'\t' -v limit="$limit" '
    {
      name = $1; file = $2; line = 0; end = 0; scope = ""
      for (i = 3; i <= NF; ++i) {
        if ($i ~ /^line:/) line = substr($i, 6)
        else if ($i ~ /^end:/) end = substr($i, 5)
        else if ($i ~ /^(function|class|struct|namespace):/) scope = substr($i, index($i, ":") + 1)
      }
      if (end == 0) next
      if (name ~ /^__anon/) name = "lambda in " scope
      else if (scope != "" && scope !~ /__anon/) name = scope "::" name
      n = end - line + 1
      if (n > limit) printf "%d\t%s:%d: %s: %d lines (limit %d)\n", n, substr(file, 3), line, name, n, limit
    }' |
  sort -t$'\t' -k1,1nr | cut -f2-)"
[[ -z "$report" ]] && exit 0
printf '%s\n' "$report"
exit 1
