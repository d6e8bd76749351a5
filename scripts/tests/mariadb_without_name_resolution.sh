#!/usr/bin/env bash
# scripts/mariadb.sh start/stop on a host whose name resolves nowhere (issue
# 11: mariadb-install-db failed with "Neither host 'vm' nor 'localhost' could
# be looked up", as in a minimal Debian 12 chroot). A private UTS and mount
# namespace give the host an unknown name and an empty /etc/hosts.
# Exit 77 (skipped) without root, unshare or MariaDB.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "skipped: needs root (unshare --uts --mount)"; exit 77; }
command -v unshare >/dev/null || { echo "skipped: no unshare"; exit 77; }
command -v mariadb-install-db >/dev/null || command -v mysql_install_db >/dev/null ||
  { echo "skipped: no mariadb-install-db"; exit 77; }

WORK=$(mktemp -d /tmp/keyreq-mariadb-noresolve.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
: >"$WORK/hosts"
unshare --uts --mount bash -euo pipefail -c '
  hostname keyreq-unresolvable-host
  mount --bind "$1/hosts" /etc/hosts
  if getent hosts localhost >/dev/null; then echo "localhost still resolves"; exit 1; fi
  status=0
  "$2/scripts/mariadb.sh" start "$1/db" >/dev/null || status=$?
  if [ "$status" -eq 0 ]; then
    . "$1/db/mariadb.env"
    mariadb --socket="$KEYREQ_MARIADB_SOCKET" -u keyreq -p"$KEYREQ_MARIADB_PASSWORD" -e "SELECT 1" keyreq >/dev/null ||
      status=$?
  fi
  "$2/scripts/mariadb.sh" stop "$1/db" || true
  exit "$status"
' _ "$WORK" "$ROOT"
echo "ok: started, answered and stopped without name resolution"
