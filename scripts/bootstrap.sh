#!/usr/bin/env bash
# Installs the Debian packages keyreq needs to build, test and benchmark.
# As root: installs what is missing. Otherwise: prints the exact apt-get line and stops.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config
  libboost1.81-dev libsimdjson-dev libcli11-dev libpugixml-dev nlohmann-json3-dev
  libsqlite3-dev sqlite3 libgtest-dev libgmock-dev libbenchmark-dev librapidcheck-dev
  libspdlog-dev libfmt-dev gnuplot-nox
  clang-14 libclang-rt-14-dev
  clang-format-14  # scripts/format.sh --check: the formatting step of .ci/run
  mariadb-server mariadb-client libmariadb-dev
  python3 python3-pymysql python3-jsonschema php-cli php-sqlite3 php-mysql
  perl libdbd-sqlite3-perl libdbd-mysql-perl libjson-perl
  universal-ctags  # scripts/long-functions.sh: function extents without compiling
  libxml2-utils  # xmllint: certify's JUnit is validated against conformance/certify/schemas/junit-10.xsd
)

missing=()
for p in "${packages[@]}"; do
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

line="apt-get install -y --no-install-recommends ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  echo "keyreq: missing Debian packages. As root, run:" >&2
  echo "  apt-get update && $line" >&2
  exit 1
fi

echo "keyreq: installing missing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# mariadb-server's maintainer scripts try to start the service; no init system here.
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
