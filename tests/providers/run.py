#!/usr/bin/python3
"""End-to-end tests of the Python, PHP and Perl providers.

For every language x transport (exec, socket) x backend (sqlite, mariadb):
`keyreq resolve` must register exactly the dataset's record for id and for ip
lookups (all four fields, checked in the client.keys line), unknown agents
must be declined with a message, and requests the resolver refuses must never
reach a record. The providers are also called directly (exec: argv; socket:
raw bytes) with bad options, malformed values and injection attempts: each
must answer with exactly one JSON error object on stdout / the connection
and nothing else. Socket daemons are checked for the empty health-check
connection, requests split over two writes, concurrent clients, refusing to
steal a live socket, replacing a stale one and a clean exit on SIGTERM.

usage: tests/providers/run.py --bin DIR [--mariadb-env FILE | --no-mariadb]
                              [--agents N] [--jobs N] [--keep] [--verbose]

  --bin DIR          directory holding the keyreq binary (build/release/bin)
  (default)          start a private MariaDB with scripts/mariadb.sh in the
                     temporary directory, load it, stop it at the end
  --mariadb-env FILE use the running server FILE describes (the mariadb.env
                     written by `scripts/mariadb.sh start DIR`)
  --no-mariadb       skip every MariaDB case (reported as SKIPPED)

The last line is "N passed, M failed"; the exit status is 0 only when
nothing failed.
"""
import argparse
import concurrent.futures
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROVIDERS = os.path.join(ROOT, "fixtures", "providers")
LANGUAGES = {
    "python": ["/usr/bin/python3", os.path.join(PROVIDERS, "python", "provider.py")],
    "php": ["/usr/bin/php", os.path.join(PROVIDERS, "php", "provider.php")],
    "perl": ["/usr/bin/perl", os.path.join(PROVIDERS, "perl", "provider.pl")],
}
TRANSPORTS = ("exec", "socket")
BACKENDS = ("sqlite", "mariadb")

# Values that must never yield a record: malformed, or SQL injection attempts.
BAD_IDS = ["01", "123456789", "abc", "-1", "", " 001", "001 ", "001\n", "0x1", "１２３",
           "' OR '1'='1", "1 OR 1=1", "001' OR '1'='1", "001; DROP TABLE agent", "001 --",
           "%", "001%", "' UNION SELECT 1,2,3,4 --", "001\x00"]
BAD_IPS = ["01.2.3.4", "1.2.3", "256.1.1.1", "1.2.3.4/24", "fe80::1%eth0", "[::1]", "",
           "' OR '1'='1", "10.0.0.1' OR ''='", "1.2.3.4 OR 1=1", "%", "10.0.0.%",
           "' UNION SELECT 1,2,3,4 --", "1.2.3.4\n"]
INJECTIONS_VIA_RESOLVE = [("id", "' OR '1'='1"), ("id", "1 OR 1=1"), ("ip", "' OR '1'='1")]


# --------------------------------------------------------------------------
# results


def exit_code_within(proc, seconds):
    """The process's exit code, or "still running" (then it is killed) after `seconds`."""
    try:
        return proc.wait(seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return "still running"


def answers_with_row(path, row):
    """Whether the daemon on `path` answers id:<row's id> with exactly that row."""
    try:
        doc, _ = one_json_object(socket_request(path, ("id:%s" % row[0]).encode()))
        return doc is not None and is_exact_record(doc, row)
    except OSError:
        return False

class Results:
    def __init__(self, verbose):
        self.verbose = verbose
        self.lock = threading.Lock()
        self.counts = {}          # group -> [passed, failed]
        self.failures = []

    def record(self, group, name, ok, detail, lines):
        with self.lock:
            c = self.counts.setdefault(group, [0, 0])
            c[0 if ok else 1] += 1
            if not ok:
                self.failures.append("%s: %s: %s" % (group, name, detail))
        if not ok:
            lines.append("FAIL  %s: %s\n      %s" % (group, name, detail))
        elif self.verbose:
            lines.append("ok    %s: %s" % (group, name))

    def totals(self):
        return (sum(c[0] for c in self.counts.values()), sum(c[1] for c in self.counts.values()))


class Checker:
    """Collects the checks of one combination; output is printed in one block."""

    def __init__(self, results, group):
        self.results = results
        self.group = group
        self.lines = []

    def check(self, name, ok, detail=""):
        self.results.record(self.group, name, bool(ok), detail, self.lines)
        return bool(ok)


# --------------------------------------------------------------------------
# helpers

def run(cmd, env=None, timeout=60, stdin=subprocess.DEVNULL):
    try:
        p = subprocess.run(cmd, env=env, stdin=stdin, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        return "timeout", e.stdout or b"", e.stderr or b""


def no_duplicate_keys(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key")
    return dict(pairs)


def one_json_object(raw):
    """The single JSON object in raw (whitespace around allowed) or an error string."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "output is not UTF-8: %r" % raw[:200]
    try:
        doc = json.loads(text, object_pairs_hook=no_duplicate_keys,
                         parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    except ValueError as e:
        return None, "not exactly one JSON document (%s): %r" % (e, raw[:300])
    if not isinstance(doc, dict):
        return None, "not a JSON object: %r" % raw[:200]
    return doc, None


def is_error_answer(doc):
    """An answer that declines: error is a positive int, message a non-empty string, no data."""
    e = doc.get("error")
    return (isinstance(e, int) and not isinstance(e, bool) and e > 0
            and isinstance(doc.get("message"), str) and doc["message"] != ""
            and "data" not in doc)


def is_exact_record(doc, row):
    return (doc.get("error") == 0 and isinstance(doc.get("data"), dict)
            and doc["data"] == {"id": row[0], "name": row[1], "ip": row[2], "key": row[3]}
            and set(doc) == {"error", "data"})


def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("KEYREQ_") and not k.startswith("PHP_INI")}
    env.update(extra or {})
    return env


def socket_request(path, payload, pieces=None, gap=0.02, timeout=10.0):
    """Send one request on a fresh connection (no half-close), read the answer until EOF."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        if pieces:
            for i, p in enumerate(pieces):
                if i:
                    time.sleep(gap)
                s.sendall(p)
        else:
            s.sendall(payload)
        out = b""
        while True:
            d = s.recv(65536)
            if not d:
                return out
            out += d
    finally:
        s.close()


def wait_for_socket(path, proc, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if os.path.exists(path):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
                return True
            except OSError:
                pass
            finally:
                s.close()
        time.sleep(0.05)
    return False


def read_keys(path):
    try:
        with open(path, "rb") as f:
            return [l for l in f.read().decode("utf-8", "replace").splitlines()
                    if l and not l.startswith("#") and not l.startswith(" ")]
    except FileNotFoundError:
        return []


def resolve_outcome(out):
    line = out.decode("utf-8", "replace").strip().splitlines()
    try:
        return json.loads(line[-1]) if line else {}
    except ValueError:
        return {}


# --------------------------------------------------------------------------
# environment: dataset and MariaDB

class Setup:
    def __init__(self, args):
        self.args = args
        self.keyreq = os.path.join(args.bin, "keyreq")
        # Socket paths must fit in sun_path (107 bytes): stay short.
        base = tempfile.gettempdir()
        self.tmp = tempfile.mkdtemp(prefix="kr-prov-", dir=base if len(base) <= 40 else "/tmp")
        self.sqlite = os.path.join(self.tmp, "agents.db")
        self.rows = []
        self.mariadb = None          # dict from mariadb.env
        self.mariadb_dir = None      # set when this run started the server
        self.daemons = []
        self.daemons_lock = threading.Lock()
        self.closed = False          # after cleanup() no daemon may start

    def load_env_file(self, path):
        env = {}
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#") and "=" in line:
                    k, _, v = line.partition("=")
                    env[k.strip()] = v.strip().strip("'\"")
        return env

    def prepare(self):
        if not os.access(self.keyreq, os.X_OK):
            raise SystemExit("run.py: no keyreq binary at %s" % self.keyreq)
        rc, out, err = run([self.keyreq, "dataset", "--agents", str(self.args.agents),
                            "--sqlite", self.sqlite], timeout=120)
        if rc != 0:
            raise SystemExit("run.py: keyreq dataset --sqlite failed (%s): %s" % (rc, err.decode(errors="replace")))
        db = sqlite3.connect(self.sqlite)
        self.rows = [tuple(r) for r in db.execute("SELECT id, name, ip, agent_key FROM agent ORDER BY rowid")]
        db.close()
        if len(self.rows) != self.args.agents:
            raise SystemExit("run.py: dataset has %d rows, expected %d" % (len(self.rows), self.args.agents))

        if self.args.no_mariadb:
            return
        if self.args.mariadb_env:
            self.mariadb = self.load_env_file(self.args.mariadb_env)
        else:
            self.mariadb_dir = os.path.join(self.tmp, "my")
            rc, out, err = run([os.path.join(ROOT, "scripts", "mariadb.sh"), "start", self.mariadb_dir],
                               timeout=180)
            if rc != 0:
                raise SystemExit("run.py: scripts/mariadb.sh start failed (%s):\n%s" % (rc, err.decode(errors="replace")))
            self.mariadb = self.load_env_file(os.path.join(self.mariadb_dir, "mariadb.env"))
        rc, out, err = run([self.keyreq, "dataset", "--agents", str(self.args.agents),
                            "--mariadb", self.mariadb["KEYREQ_MARIADB_LOADER_DSN"]], timeout=300)
        if rc != 0:
            raise SystemExit("run.py: keyreq dataset --mariadb failed (%s): %s" % (rc, err.decode(errors="replace")))

    def mariadb_rows(self):
        import pymysql
        m = self.mariadb
        conn = pymysql.connect(unix_socket=m["KEYREQ_MARIADB_SOCKET"], user=m["KEYREQ_MARIADB_USER"],
                               password=m["KEYREQ_MARIADB_PASSWORD"], database=m["KEYREQ_MARIADB_DATABASE"])
        try:
            with conn.cursor() as c:
                c.execute("SELECT id, name, ip, agent_key FROM agent")
                return sorted(tuple(r) for r in c.fetchall())
        finally:
            conn.close()

    def add_daemon(self, proc):
        with self.daemons_lock:
            self.daemons.append(proc)
            if not self.closed:
                return
        kill_group(proc)

    def cleanup(self):
        with self.daemons_lock:
            self.closed = True
            daemons = list(self.daemons)
        for proc in daemons:
            kill_group(proc)
        if self.mariadb_dir:
            run([os.path.join(ROOT, "scripts", "mariadb.sh"), "stop", self.mariadb_dir], timeout=120)
        if not self.args.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            print("kept %s" % self.tmp)


# --------------------------------------------------------------------------
# one combination

class Combo:
    def __init__(self, setup, results, lang, transport, backend):
        self.s = setup
        self.lang = lang
        self.transport = transport
        self.backend = backend
        self.name = "%s/%s/%s" % (lang, transport, backend)
        self.c = Checker(results, backend)
        self.dir = os.path.join(setup.tmp, "%s-%s-%s" % (lang[:2], transport[0], backend[0]))
        os.makedirs(self.dir)
        self.counter = 0
        self.interp = LANGUAGES[lang]

    # backend arguments: exec passes everything on the command line (the DSN);
    # the daemon takes the MariaDB settings from the environment.
    def backend_args(self):
        if self.backend == "sqlite":
            return ["--db", self.s.sqlite]
        if self.transport == "exec":
            return ["--mariadb", self.s.mariadb["KEYREQ_MARIADB_DSN"]]
        return []

    def backend_env(self):
        if self.backend == "sqlite" or self.transport == "exec":
            return clean_env()
        m = self.s.mariadb
        return clean_env({k: m[k] for k in ("KEYREQ_MARIADB_SOCKET", "KEYREQ_MARIADB_USER",
                                            "KEYREQ_MARIADB_PASSWORD", "KEYREQ_MARIADB_DATABASE")})

    def check(self, name, ok, detail=""):
        return self.c.check("%s: %s" % (self.name, name), ok, detail)

    def keys_file(self):
        self.counter += 1
        return os.path.join(self.dir, "client-%d.keys" % self.counter)

    def resolve(self, kind, value, keys):
        if self.transport == "exec":
            target = ["--exec", " ".join(quote_word(w) for w in self.interp + self.backend_args())]
        else:
            target = ["--socket", self.sock]
        return run([self.s.keyreq, "resolve"] + target + ["--keys", keys, "--timeout", "30", kind, value],
                   env=clean_env(), timeout=60)

    # ---- through keyreq resolve

    def resolve_checks(self):
        rows = self.s.rows
        sample = sorted({0, 1, len(rows) // 2, len(rows) - 2, len(rows) - 1})
        for i in sample:
            row = rows[i]
            for kind, value in (("id", row[0]), ("ip", row[2])):
                keys = self.keys_file()
                rc, out, err = self.resolve(kind, value, keys)
                outcome = resolve_outcome(out)
                lines = read_keys(keys)
                expected = "%s %s %s %s" % row
                self.check("resolve %s %s registers the dataset record" % (kind, value),
                           rc == 0 and outcome.get("outcome") == "registered" and lines == [expected],
                           "rc=%s out=%r err=%r keys=%r expected=%r" % (rc, out[:300], err[-300:], lines, expected))
        ids = {r[0] for r in rows}
        ips = {r[2] for r in rows}
        unknown_id = next(v for v in ("99999999", "88888888", "7777777") if v not in ids)
        unknown_ips = [v for v in ("192.0.2.123", "2001:db8::7") if v not in ips]
        for kind, value in [("id", unknown_id)] + [("ip", v) for v in unknown_ips]:
            keys = self.keys_file()
            rc, out, err = self.resolve(kind, value, keys)
            outcome = resolve_outcome(out)
            self.check("resolve %s %s (unknown) is declined with a message" % (kind, value),
                       rc == 1 and outcome.get("outcome") == "declined" and outcome.get("code") == 1
                       and isinstance(outcome.get("message"), str) and outcome["message"] != ""
                       and read_keys(keys) == [],
                       "rc=%s out=%r err=%r" % (rc, out[:300], err[-300:]))
        for kind, value in INJECTIONS_VIA_RESOLVE:
            keys = self.keys_file()
            rc, out, err = self.resolve(kind, value, keys)
            self.check("resolve %s %r registers nothing" % (kind, value),
                       rc != 0 and resolve_outcome(out).get("outcome") not in ("registered", "accepted")
                       and read_keys(keys) == [],
                       "rc=%s out=%r" % (rc, out[:300]))

    # ---- exec provider called directly

    def direct(self, words, extra_args=None, env=None, interp=None):
        cmd = (interp or self.interp) + (self.backend_args() if extra_args is None else extra_args) + words
        return run(cmd, env=env or self.backend_env(), timeout=60)

    def expect_error(self, name, rc, out, err, code=None):
        doc, problem = one_json_object(out)
        ok = rc == 0 and doc is not None and is_error_answer(doc) and (code is None or doc["error"] == code)
        self.check(name, ok, "rc=%s %s stdout=%r stderr=%r" % (rc, problem or "", out[:300], err[-300:]))

    def expect_record(self, name, rc, out, err, row):
        doc, problem = one_json_object(out)
        self.check(name, rc == 0 and doc is not None and is_exact_record(doc, row),
                   "rc=%s %s stdout=%r stderr=%r" % (rc, problem or "", out[:300], err[-300:]))

    def exec_direct_checks(self):
        row = self.s.rows[0]
        rc, out, err = self.direct(["id", row[0]])
        self.expect_record("direct id %s gives the record" % row[0], rc, out, err, row)
        rc, out, err = self.direct(["ip", row[2]])
        self.expect_record("direct ip %s gives the record" % row[2], rc, out, err, row)
        rc, out, err = self.direct(["id", "99999999"])
        self.expect_error("direct unknown id: error 1", rc, out, err, 1)
        for words in (["--bogus", "id", row[0]], ["--db"], ["--workers", "0", "id", row[0]],
                      ["--mariadb", "postgres://x@y/z", "id", row[0]]):
            rc, out, err = self.direct(words)
            self.expect_error("bad option %r: error 2" % words[0], rc, out, err, 2)
        for words in ([], ["id"], ["id", row[0], "extra"], ["foo", row[0]], ["ID", row[0]]):
            rc, out, err = self.direct(words)
            self.expect_error("request words %r: error 2" % (words,), rc, out, err, 2)
        for value in BAD_IDS:
            if "\x00" in value:
                continue  # cannot be passed in argv
            rc, out, err = self.direct(["id", value])
            self.expect_error("malformed/injection id %r: error 2" % value, rc, out, err, 2)
        for value in BAD_IPS:
            rc, out, err = self.direct(["ip", value])
            self.expect_error("malformed/injection ip %r: error 2" % value, rc, out, err, 2)
        # database unreachable
        if self.backend == "sqlite":
            rc, out, err = self.direct(["id", row[0]], extra_args=["--db", os.path.join(self.dir, "missing.db")])
            self.expect_error("missing SQLite file: error 3", rc, out, err, 3)
            self.check("missing SQLite file is not created", not os.path.exists(os.path.join(self.dir, "missing.db")))
            garbage = os.path.join(self.dir, "garbage.db")
            with open(garbage, "wb") as f:
                f.write(b"not a database\n" * 100)
            rc, out, err = self.direct(["id", row[0]], extra_args=["--db", garbage])
            self.expect_error("not a SQLite file: error 3", rc, out, err, 3)
        else:
            m = self.s.mariadb
            rc, out, err = self.direct(["id", row[0]], extra_args=[
                "--mariadb-socket", os.path.join(self.dir, "nope.sock"), "--mariadb-user", "keyreq",
                "--mariadb-database", "keyreq"])
            self.expect_error("MariaDB socket absent: error 3", rc, out, err, 3)
            rc, out, err = self.direct(["id", row[0]], extra_args=[
                "--mariadb-socket", m["KEYREQ_MARIADB_SOCKET"], "--mariadb-user", "keyreq",
                "--mariadb-password", "wrong", "--mariadb-database", "keyreq"])
            self.expect_error("MariaDB wrong password: error 3", rc, out, err, 3)
            # TCP endpoint, password from the environment only
            rc, out, err = self.direct(["id", row[0]], extra_args=[
                "--mariadb-host", m["KEYREQ_MARIADB_HOST"], "--mariadb-port", m["KEYREQ_MARIADB_PORT"],
                "--mariadb-user", m["KEYREQ_MARIADB_USER"], "--mariadb-database", m["KEYREQ_MARIADB_DATABASE"]],
                env=clean_env({"KEYREQ_MARIADB_PASSWORD": m["KEYREQ_MARIADB_PASSWORD"]}))
            self.expect_record("MariaDB over TCP 127.0.0.1 gives the record", rc, out, err, row)
            # everything from the environment, no option at all
            rc, out, err = self.direct(["ip", row[2]], extra_args=[], env=clean_env(
                {k: v for k, v in m.items() if k in ("KEYREQ_MARIADB_SOCKET", "KEYREQ_MARIADB_USER",
                                                     "KEYREQ_MARIADB_PASSWORD", "KEYREQ_MARIADB_DATABASE")}))
            self.expect_record("MariaDB settings from KEYREQ_MARIADB_* only", rc, out, err, row)
        # the script itself, through its shebang
        rc, out, err = run(self.interp[1:] + self.backend_args() + ["id", row[0]], env=self.backend_env())
        self.expect_record("script runs through its shebang", rc, out, err, row)
        if self.lang == "php":
            # php.ini asking for errors on stdout must not break the answer
            rc, out, err = self.direct(["id", row[0]], interp=[
                "/usr/bin/php", "-d", "display_errors=stdout", "-d", "display_startup_errors=1",
                "-d", "error_reporting=-1", self.interp[1]],
                extra_args=["--db", os.path.join(self.dir, "missing.db")] if self.backend == "sqlite" else [
                    "--mariadb-socket", os.path.join(self.dir, "nope.sock"), "--mariadb-database", "keyreq"])
            self.expect_error("PHP with display_errors=stdout: still one JSON error", rc, out, err, 3)

    # ---- socket daemon

    def start_daemon(self, path, extra=None):
        cmd = self.interp + self.backend_args() + ["--socket", path, "--workers", "3"] + (extra or [])
        self.n_daemons = getattr(self, "n_daemons", 0) + 1
        errf = open(os.path.join(self.dir, "daemon-%d.err" % self.n_daemons), "wb")
        # Own session: cleanup can kill a daemon together with its workers.
        proc = subprocess.Popen(cmd, env=self.backend_env(), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=errf, start_new_session=True)
        errf.close()
        self.s.add_daemon(proc)
        return proc

    def socket_direct_checks(self):
        path = self.sock
        rows = self.s.rows
        row = rows[0]
        # health check: connect and close at once, then a real request
        ok = True
        try:
            for _ in range(3):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(path)
                s.close()
            ans = socket_request(path, ("id:%s" % row[0]).encode())
            doc, problem = one_json_object(ans)
            ok = doc is not None and is_exact_record(doc, row)
        except OSError as e:
            ok, problem, ans = False, str(e), b""
        self.check("empty health-check connections are accepted", ok and self.proc.poll() is None,
                   "%s %r" % (problem, ans[:200]))

        def ask(name, payload=None, pieces=None, want_row=None, want_code=None):
            try:
                t0 = time.monotonic()
                ans = socket_request(path, payload, pieces)
                took = time.monotonic() - t0
            except OSError as e:
                self.check(name, False, "socket error: %s" % e)
                return
            doc, problem = one_json_object(ans)
            if want_row is not None:
                ok = doc is not None and is_exact_record(doc, want_row)
            else:
                ok = doc is not None and is_error_answer(doc) and (want_code is None or doc["error"] == want_code)
            self.check(name, ok and took < 5.0, "%s answer=%r took=%.2fs" % (problem or "", ans[:300], took))

        ask("raw id:%s without terminator" % row[0], ("id:%s" % row[0]).encode(), want_row=row)
        ask("raw ip:%s without terminator" % row[2], ("ip:%s" % row[2]).encode(), want_row=row)
        ask("raw request ending in \\n", ("id:%s\n" % rows[1][0]).encode(), want_row=rows[1])
        ask("raw request ending in \\r\\n", ("ip:%s\r\n" % rows[1][2]).encode(), want_row=rows[1])
        ask("request split over two writes", pieces=[b"id:" + rows[2][0][:1].encode(),
                                                    rows[2][0][1:].encode()], want_row=rows[2])
        ask("unknown id: error 1", b"id:99999999", want_code=1)
        for payload in (b"hello", b"id", b"id:", b"ip:", b"ID:001", b"id 001", b"id:001\n\n", b"\x00id:001",
                        b"id:001\x00", b"\xff\xfe", b"x" * 2000):
            ask("malformed request %r: error 2" % payload[:40], payload, want_code=2)
        for value in BAD_IDS:
            if value.endswith("\n"):
                continue   # a trailing newline is a terminator on the socket
            ask("malformed/injection id:%r: error 2" % value, ("id:" + value).encode("utf-8"), want_code=2)
        for value in BAD_IPS:
            if value.endswith("\n"):
                continue
            ask("malformed/injection ip:%r: error 2" % value, ("ip:" + value).encode("utf-8"), want_code=2)

        # concurrency: one client holds a connection open without sending, others go on
        idle = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        idle.connect(path)
        sample = rows[: min(len(rows), 20)]
        errors = []

        def client(i):
            r = sample[i % len(sample)]
            kind, value = ("id", r[0]) if i % 2 == 0 else ("ip", r[2])
            try:
                doc, problem = one_json_object(socket_request(path, ("%s:%s" % (kind, value)).encode()))
                if doc is None or not is_exact_record(doc, r):
                    errors.append("%s:%s -> %s %r" % (kind, value, problem, doc))
            except OSError as e:
                errors.append("%s:%s -> %s" % (kind, value, e))

        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            list(pool.map(client, range(200)))
        took = time.monotonic() - t0
        idle.close()
        self.check("200 requests from 16 concurrent clients, one idle connection open",
                   not errors and took < 30, "took %.1fs, %d wrong: %s" % (took, len(errors), errors[:3]))

        if self.backend == "sqlite":
            self.socket_lifecycle_checks()

    def socket_lifecycle_checks(self):
        row = self.s.rows[0]
        # a second daemon must not steal the live socket
        rc = exit_code_within(self.start_daemon(self.sock), 15)
        alive = answers_with_row(self.sock, row)
        self.check("a second daemon refuses a live socket and the first keeps serving",
                   rc not in (0, "still running") and alive, "second rc=%s first alive=%s" % (rc, alive))
        # a stale socket file is replaced
        stale = os.path.join(self.dir, "stale.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(stale)
        s.close()  # the file stays, nobody listens
        proc = self.start_daemon(stale)
        up = wait_for_socket(stale, proc)
        ok = up and answers_with_row(stale, row)
        self.check("a stale socket file is replaced", up and ok, "up=%s answered=%s" % (up, ok))
        self.stop_daemon(proc, stale, "stale-socket daemon")
        # a path that is not a socket is left alone
        regular = os.path.join(self.dir, "regular.sock")
        with open(regular, "w") as f:
            f.write("keep me\n")
        rc = exit_code_within(self.start_daemon(regular), 15)
        self.check("a regular file at the socket path is refused and kept",
                   rc not in (0, "still running") and open(regular).read() == "keep me\n", "rc=%s" % rc)

    def stop_daemon(self, proc, path, what):
        if proc.poll() is not None:
            self.check("%s still running before SIGTERM" % what, False, "exited %s" % proc.returncode)
            return
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(10)
        except subprocess.TimeoutExpired:
            rc = "timeout"
            proc.kill()
            proc.wait()
        out = proc.stdout.read() if proc.stdout else b""
        self.check("%s exits 0 on SIGTERM and removes its socket" % what,
                   rc == 0 and not os.path.exists(path) and out == b"",
                   "rc=%s socket left=%s stdout=%r" % (rc, os.path.exists(path), out[:200]))

    def run(self):
        try:
            if self.transport == "socket":
                self.sock = os.path.join(self.dir, "p.sock")
                self.proc = self.start_daemon(self.sock)
                if not self.check("daemon comes up", wait_for_socket(self.sock, self.proc),
                                  "exit=%s" % self.proc.poll()):
                    return self.c.lines
            self.resolve_checks()
            if self.transport == "exec":
                self.exec_direct_checks()
            else:
                self.socket_direct_checks()
                self.stop_daemon(self.proc, self.sock, "daemon")
        except Exception as e:  # a broken test is a failure, not a crash
            import traceback
            self.check("no test error", False, traceback.format_exc())
        return self.c.lines


def kill_group(proc):
    """SIGKILL a running daemon and its workers (its own process group), reap it."""
    if proc.poll() is not None:
        return   # reaped: its pid may be reused; orphaned workers exit on their own
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        pass


def quote_word(w):
    """Quote one exec_path word (double quotes group, backslash escapes: SPEC §3)."""
    if w and all(c.isalnum() or c in "/._-:=@?%+," for c in w):
        return w
    return '"' + w.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True, help="directory holding keyreq")
    g = ap.add_mutually_exclusive_group()
    # .ci/run starts one server for the whole run and names it in KEYREQ_MARIADB_ENV.
    g.add_argument("--mariadb-env", default=os.environ.get("KEYREQ_MARIADB_ENV") or None,
                   help="use the running server this mariadb.env describes (default: $KEYREQ_MARIADB_ENV)")
    g.add_argument("--no-mariadb", action="store_true", help="skip the MariaDB cases")
    ap.add_argument("--agents", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=4)
    ap.add_argument("--languages", default=",".join(LANGUAGES))
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--verbose", "-v", action="store_true", help="print passing checks too")
    args = ap.parse_args()
    args.bin = os.path.abspath(args.bin)

    results = Results(args.verbose)
    setup = Setup(args)

    def interrupted(signum, _frame):
        # Stop the daemons and the MariaDB server now, without waiting for the
        # combinations still running.
        print("run.py: interrupted by signal %d; cleaning up" % signum, flush=True)
        setup.cleanup()
        print("0 passed, 1 failed", flush=True)
        os._exit(1)
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    t0 = time.monotonic()
    try:
        setup.prepare()
        print("dataset: %d agents; MariaDB: %s" % (
            len(setup.rows), "SKIPPED" if args.no_mariadb else
            ("server started in %s" % setup.mariadb_dir if setup.mariadb_dir else args.mariadb_env)))
        backends = ["sqlite"] if args.no_mariadb else ["sqlite", "mariadb"]
        if not args.no_mariadb:
            lines = []
            mrows = setup.mariadb_rows()
            results.record("mariadb", "MariaDB holds exactly the SQLite dataset (read as the SELECT-only user)",
                           mrows == sorted(setup.rows), "%d rows vs %d" % (len(mrows), len(setup.rows)), lines)
            if lines:
                print("\n".join(lines))
        combos = [Combo(setup, results, lang, transport, backend)
                  for backend in backends for lang in args.languages.split(",") for transport in TRANSPORTS]
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            futures = {pool.submit(c.run): c for c in combos}
            for f in concurrent.futures.as_completed(futures):
                c = futures[f]
                lines = f.result()
                print("%-24s done" % c.name)
                if lines:
                    print("\n".join(lines))
                sys.stdout.flush()
    finally:
        setup.cleanup()

    print()
    for backend in BACKENDS:
        if backend in results.counts:
            p, f = results.counts[backend]
            print("%-8s %d passed, %d failed" % (backend + ":", p, f))
    if args.no_mariadb:
        print("*" * 72)
        print("*** SKIPPED: every MariaDB case (--no-mariadb given) ***")
        print("*" * 72)
    print("time: %.1fs" % (time.monotonic() - t0))
    passed, failed = results.totals()
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
