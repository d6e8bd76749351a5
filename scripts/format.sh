#!/usr/bin/env bash
# Formats every tracked C++ file with clang-format-14 and the root
# .clang-format (Google style, 120 columns).
#   scripts/format.sh          rewrite the files in place
#   scripts/format.sh --check  change nothing; list the files that differ and
#                              exit 1 if any does (the CI step)
set -euo pipefail
cd "$(dirname "$0")/.."
clang_format=${CLANG_FORMAT:-clang-format-14}
if ! command -v "$clang_format" >/dev/null; then
  echo "format.sh: $clang_format not found (Debian package clang-format-14; scripts/bootstrap.sh installs it)" >&2
  exit 2
fi
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h' '*.cc')
if [[ "${1:-}" == "--check" ]]; then
  differ=()
  for f in "${files[@]}"; do
    "$clang_format" --style=file "$f" | cmp -s - "$f" || differ+=("$f")
  done
  if ((${#differ[@]} > 0)); then
    echo "format.sh: ${#differ[@]} of ${#files[@]} C++ files differ from .clang-format:" >&2
    printf '  %s\n' "${differ[@]}" >&2
    echo "run scripts/format.sh (or make format) and commit the result" >&2
    exit 1
  fi
  echo "format.sh: all ${#files[@]} C++ files match .clang-format"
  exit 0
fi
if [[ $# -gt 0 ]]; then
  echo "usage: scripts/format.sh [--check]" >&2
  exit 2
fi
"$clang_format" --style=file -i "${files[@]}"
