#!/usr/bin/env bash
# A private MariaDB server for tests and benchmarks, without systemd.
#
#   scripts/mariadb.sh start DIR   initialise DIR (once), start mariadbd, create
#                                  database `keyreq`, the read-only user `keyreq`
#                                  and the loader user `keyreq_loader`; write
#                                  DIR/mariadb.env and print it
#   scripts/mariadb.sh stop DIR    stop the server started in DIR and wait for it
#   scripts/mariadb.sh status DIR  exit 0 when the server in DIR answers
#   scripts/mariadb.sh env DIR     print DIR/mariadb.env
#
# The server listens on DIR/mysqld.sock and on 127.0.0.1:PORT (PORT from
# $KEYREQ_MARIADB_PORT, else the first free port from 33306 up). Works as root
# (mariadbd runs with --user=root) and as an ordinary user. Every file it makes
# stays under DIR; nothing under /etc or /var is read or written (--no-defaults).
# `start` is idempotent: on a running server it only re-applies the grants and
# reprints the settings; on a stopped one it restarts on the same datadir.
set -euo pipefail

die() { echo "mariadb.sh: $*" >&2; exit 1; }
log() { echo "mariadb.sh: $*" >&2; }

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

[ $# -eq 2 ] || usage
cmd=$1
mkdir -p "$2"
DIR=$(cd "$2" && pwd)

DATA=$DIR/data
SOCK=$DIR/mysqld.sock
PIDFILE=$DIR/mariadbd.pid
ERRLOG=$DIR/mariadbd.err
ADMIN_CNF=$DIR/admin.cnf    # root's client settings (password), mode 600
ENVFILE=$DIR/mariadb.env    # settings for providers and `keyreq dataset`, mode 600
STATE=$DIR/state            # port and generated passwords, kept across restarts

find_bin() {
  local b
  for b in "$@"; do
    if command -v "$b" >/dev/null 2>&1; then command -v "$b"; return 0; fi
    for d in /usr/sbin /usr/bin /usr/local/sbin /usr/local/bin; do
      if [ -x "$d/$b" ]; then echo "$d/$b"; return 0; fi
    done
  done
  return 1
}

need_bins() {
  MARIADBD=$(find_bin mariadbd mysqld) || die "mariadbd not found (apt-get install mariadb-server)"
  INSTALL_DB=$(find_bin mariadb-install-db mysql_install_db) || die "mariadb-install-db not found"
  CLIENT=$(find_bin mariadb mysql) || die "mariadb client not found (apt-get install mariadb-client)"
  ADMIN=$(find_bin mariadb-admin mysqladmin) || die "mariadb-admin not found"
}

# The Unix socket path must fit in sun_path (107 bytes plus NUL).
[ ${#SOCK} -le 107 ] || die "socket path too long (${#SOCK} > 107 bytes): $SOCK; use a shorter DIR"

server_pid() {
  [ -s "$PIDFILE" ] || return 1
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # Make sure the pid still belongs to a mariadbd of this DIR (pids get reused).
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "--datadir=$DATA" || return 1
  echo "$pid"
}

answers() {
  [ -S "$SOCK" ] || return 1
  "$ADMIN" --defaults-file="$ADMIN_CNF" --socket="$SOCK" \
    --connect-timeout=2 ping >/dev/null 2>&1
}

port_free() {
  # Nothing listening on 127.0.0.1:$1 (bash /dev/tcp: connection refused).
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pick_port() {
  local p
  if [ -n "${KEYREQ_MARIADB_PORT:-}" ]; then echo "$KEYREQ_MARIADB_PORT"; return; fi
  for p in $(seq 33306 33405); do
    if port_free "$p"; then echo "$p"; return; fi
  done
  die "no free port in 33306-33405"
}

rand_hex() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }

load_state() {
  PORT='' ROOT_PW='' USER_PW='' LOADER_PW=''
  # shellcheck disable=SC1090
  [ -f "$STATE" ] && . "$STATE"
  [ -n "$ROOT_PW" ] || ROOT_PW=$(rand_hex)
  [ -n "$USER_PW" ] || USER_PW=$(rand_hex)
  [ -n "$LOADER_PW" ] || LOADER_PW=$(rand_hex)
}

save_state() {
  umask 077
  printf 'PORT=%s\nROOT_PW=%s\nUSER_PW=%s\nLOADER_PW=%s\n' \
    "$PORT" "$ROOT_PW" "$USER_PW" "$LOADER_PW" >"$STATE"
  printf '[client]\nuser=root\npassword=%s\n' "$ROOT_PW" >"$ADMIN_CNF"
}

write_env() {
  umask 077
  cat >"$ENVFILE" <<EOF
KEYREQ_MARIADB_SOCKET=$SOCK
KEYREQ_MARIADB_HOST=127.0.0.1
KEYREQ_MARIADB_PORT=$PORT
KEYREQ_MARIADB_USER=keyreq
KEYREQ_MARIADB_PASSWORD=$USER_PW
KEYREQ_MARIADB_DATABASE=keyreq
KEYREQ_MARIADB_DSN=mariadb://keyreq:$USER_PW@localhost/keyreq?socket=$SOCK
KEYREQ_MARIADB_TCP_DSN=mariadb://keyreq:$USER_PW@127.0.0.1:$PORT/keyreq
KEYREQ_MARIADB_LOADER_USER=keyreq_loader
KEYREQ_MARIADB_LOADER_PASSWORD=$LOADER_PW
KEYREQ_MARIADB_LOADER_DSN=mariadb://keyreq_loader:$LOADER_PW@localhost/keyreq?socket=$SOCK
EOF
}

root_sql() {
  "$CLIENT" --defaults-file="$ADMIN_CNF" --socket="$SOCK" \
    --connect-timeout=5 --batch -e "$1"
}

initialise() {
  log "initialising $DATA"
  rm -rf "$DATA"
  mkdir -p "$DATA"
  local user_opt=()
  [ "$(id -u)" -eq 0 ] && user_opt=(--user=root)
  # auth method "normal": root@localhost gets a password login (empty now, set
  # right after the first start) instead of unix_socket, so the script also
  # works for a non-root developer. --force skips the install script's own
  # check that `uname -n` or localhost resolves (resolveip), which fails on a
  # host whose name is in no hosts file or DNS (a minimal chroot: "Neither
  # host 'vm' nor 'localhost' could be looked up"); with --skip-name-resolve
  # the grant tables use IP addresses, and every account here is
  # @localhost (the Unix socket) or @127.0.0.1 anyway.
  if ! "$INSTALL_DB" --no-defaults --datadir="$DATA" "${user_opt[@]}" \
      --auth-root-authentication-method=normal --skip-test-db \
      --skip-name-resolve --force >"$DIR/install-db.log" 2>&1; then
    cat "$DIR/install-db.log" >&2
    die "mariadb-install-db failed"
  fi
  printf '[client]\nuser=root\n' >"$ADMIN_CNF"
  chmod 600 "$ADMIN_CNF"
  rm -f "$DIR/.root-password-set"
}

start_server() {
  local user_opt=()
  [ "$(id -u)" -eq 0 ] && user_opt=(--user=root)
  rm -f "$SOCK" "$SOCK.lock" "$PIDFILE"
  : >"$ERRLOG"
  # setsid: the server leaves the caller's process group and session, so
  # it is not killed with the shell that started it (CI steps, ctest).
  setsid "$MARIADBD" --no-defaults --datadir="$DATA" "${user_opt[@]}" \
    --socket="$SOCK" --port="$PORT" --bind-address=127.0.0.1 \
    --pid-file="$PIDFILE" --log-error="$ERRLOG" \
    --skip-name-resolve --skip-log-bin \
    --innodb-buffer-pool-size=64M --innodb-log-file-size=16M \
    --max-connections=512 --character-set-server=utf8mb4 \
    </dev/null >>"$ERRLOG" 2>&1 &
  local launcher=$!
  for _ in $(seq 1 600); do   # 60 s
    if "$ADMIN" --defaults-file="$ADMIN_CNF" --socket="$SOCK" \
        --connect-timeout=1 ping >/dev/null 2>&1; then
      return 0
    fi
    if ! kill -0 "$launcher" 2>/dev/null; then
      tail -n 30 "$ERRLOG" >&2
      die "mariadbd exited during start-up (log: $ERRLOG)"
    fi
    sleep 0.1
  done
  tail -n 30 "$ERRLOG" >&2
  kill "$launcher" 2>/dev/null || true
  die "mariadbd did not answer within 60 s (log: $ERRLOG)"
}

apply_grants() {
  if [ ! -f "$DIR/.root-password-set" ]; then
    root_sql "ALTER USER 'root'@'localhost' IDENTIFIED BY '$ROOT_PW';"
    printf '[client]\nuser=root\npassword=%s\n' "$ROOT_PW" >"$ADMIN_CNF"
    : >"$DIR/.root-password-set"
  fi
  local h
  local sql="CREATE DATABASE IF NOT EXISTS keyreq CHARACTER SET utf8mb4;"
  for h in localhost 127.0.0.1; do
    sql+="
CREATE USER IF NOT EXISTS 'keyreq'@'$h' IDENTIFIED BY '$USER_PW';
ALTER USER 'keyreq'@'$h' IDENTIFIED BY '$USER_PW';
GRANT SELECT ON keyreq.* TO 'keyreq'@'$h';
CREATE USER IF NOT EXISTS 'keyreq_loader'@'$h' IDENTIFIED BY '$LOADER_PW';
ALTER USER 'keyreq_loader'@'$h' IDENTIFIED BY '$LOADER_PW';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, LOCK TABLES ON keyreq.* TO 'keyreq_loader'@'$h';"
  done
  root_sql "$sql"
}

cmd_start() {
  need_bins
  load_state
  if [ ! -d "$DATA/mysql" ]; then
    initialise
  fi
  if server_pid >/dev/null && answers; then
    log "already running (pid $(server_pid)) in $DIR"
  else
    if pid=$(server_pid); then
      log "pid $pid does not answer; stopping it"
      cmd_stop_quiet
    fi
    if [ -z "$PORT" ] || ! port_free "$PORT"; then PORT=$(pick_port); fi
    save_state
    # save_state rewrote admin.cnf with the generated password; before the
    # first ALTER USER root still has an empty password.
    [ -f "$DIR/.root-password-set" ] || printf '[client]\nuser=root\n' >"$ADMIN_CNF"
    start_server
    log "started (pid $(server_pid)) socket $SOCK port $PORT"
  fi
  apply_grants
  write_env
  cat "$ENVFILE"
}

cmd_stop_quiet() {
  local pid
  pid=$(server_pid) || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 600); do   # 60 s
    kill -0 "$pid" 2>/dev/null || { rm -f "$PIDFILE"; return 0; }
    sleep 0.1
  done
  log "mariadbd $pid ignored SIGTERM for 60 s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 0.5
  rm -f "$PIDFILE" "$SOCK"
}

case "$cmd" in
  start) cmd_start ;;
  stop)
    need_bins
    if server_pid >/dev/null; then cmd_stop_quiet; log "stopped ($DIR)"; else log "not running ($DIR)"; fi ;;
  status)
    need_bins
    if server_pid >/dev/null && answers; then echo "running (pid $(server_pid))"; else echo "not running"; exit 1; fi ;;
  env)
    [ -f "$ENVFILE" ] || die "no $ENVFILE (run: $0 start $DIR)"
    cat "$ENVFILE" ;;
  *) usage ;;
esac
