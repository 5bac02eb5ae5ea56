#!/usr/bin/env python3
"""Soak test: SIGKILL `cairn serve` at random moments under load, and prove nothing acknowledged is lost.

Issue 10 §3 ("Soak"); what it checks and a recorded run are in docs/reliability.md, "Soak".
Python 3.11, standard library only. Usually started through scripts/soak.sh, which finds the binary.

While the server runs, these load it at the same time:

- HTTP producers (threads, one `append` token each): POST ndjson batches of unique records to
  /v1/entries and retry the same batch (idempotent by content address) until it is answered 200;
  every receipt (index, digest) and the response's Cairn-Request-Id are kept.
- CLI appenders: `cairn append --server URL --spool DIR` (several spool directories, some shared by
  two appenders), so records are spooled whenever the server is down or dies mid-request; now and
  then `cairn spool flush`. Printed receipts are kept; spooled digests are checked at the end.
- Local appenders: `cairn append --ledger DIR` into the same ledger (LMDB's writer lock is shared
  across processes, so they append between the server's commits, also while it is dead).
- A reader (`read` token): GET /v1/entries/{index}?raw=true of acknowledged entries; the bytes must
  hash to the acknowledged digest, and the read must be in the access log.

Then, N times: wait (busy: under load; idle: load paused and drained; startup: right after a
restart, often before the server listens; draining: just after a SIGTERM under load), SIGKILL the
server, run `cairn fsck` on the ledger and on its access log (both must pass), export the log's
tiles and check every record acknowledged so far is at its acknowledged index, and restart the
server on the same port (it must listen again within a deadline). At the end: every spool is
flushed until empty (no dead letters), the server is stopped with SIGTERM (it must exit 0), and one
pass over a fresh tile export of both logs checks that every acknowledged record is present exactly
once at its index with its digest, that no digest appears twice, that every spooled record is
present exactly once, that the log holds nothing the soak did not send, and that the access log has
an append entry for every acknowledged append (by request id for HTTP producers, by index range for
every receipt), whose entries_sha256 matches the log.

Exit status: 0 when every check held; 1 when one failed (each violation is named on stderr and in
the summary); 2 for a usage error or when the soak could not run (a missing binary...).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field

# ---------------------------------------------------------------------------------------------
# Helpers


def canonical(record: dict) -> bytes:
    """RFC 8785 canonical JSON for the records the soak makes (ASCII strings, small integers,
    nested objects and arrays): for those, sorted keys and no whitespace is exactly JCS."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def address(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def utc_now() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % int((now % 1) * 1000)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tile_index_path(n: int) -> str:
    """N in base 1000, 3 digits a group, 'x' before every group but the last (C2SP tlog-tiles)."""
    groups = []
    while True:
        groups.append(n % 1000)
        n //= 1000
        if n == 0:
            break
    groups.reverse()
    return "/".join(("x%03d" if i < len(groups) - 1 else "%03d") % g for i, g in enumerate(groups))


def read_export(directory: str) -> tuple[int, list[bytes]]:
    """The tree size and every entry of a `cairn export tiles` directory, in log order."""
    with open(os.path.join(directory, "checkpoint"), "rb") as f:
        lines = f.read().split(b"\n")
    size = int(lines[1])
    entries: list[bytes] = []
    bundle = 0
    while len(entries) < size:
        width = min(256, size - bundle * 256)
        path = os.path.join(directory, "tile", "entries", tile_index_path(bundle))
        if width < 256:
            path += ".p/%d" % width
        with open(path, "rb") as f:
            data = f.read()
        offset = 0
        for _ in range(width):
            if offset + 2 > len(data):
                raise ValueError("%s: ends inside entry %d" % (path, len(entries)))
            length = int.from_bytes(data[offset : offset + 2], "big")
            entries.append(data[offset + 2 : offset + 2 + length])
            offset += 2 + length
        if offset != len(data):
            raise ValueError("%s: %d bytes after the last entry" % (path, len(data) - offset))
        bundle += 1
    return size, entries


# ---------------------------------------------------------------------------------------------
# State shared by the load threads and the kill loop


@dataclass
class Ack:
    index: int
    digest: str
    source: str  # http, cli, flush, local
    duplicate: bool


@dataclass
class HTTPAppend:
    """One 200 answer to POST /v1/entries: its request id and receipts."""

    request_id: str
    receipts: list  # [(index, digest, duplicate)]


@dataclass
class State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    acks: list = field(default_factory=list)  # [Ack]
    by_digest: dict = field(default_factory=dict)  # digest -> index
    by_index: dict = field(default_factory=dict)  # index -> digest
    sent: set = field(default_factory=set)  # every digest the soak ever submitted (as sent)
    stored: dict = field(default_factory=dict)  # sent digest -> stored digest, where they differ (blobs)
    spooled: set = field(default_factory=set)  # digests reported "spooled":true
    http_appends: list = field(default_factory=list)  # [HTTPAppend]
    reads: list = field(default_factory=list)  # request ids of 200 reads
    violations: list = field(default_factory=list)
    counters: dict = field(default_factory=dict)

    def count(self, name: str, n: int = 1) -> None:
        with self.lock:
            self.counters[name] = self.counters.get(name, 0) + n

    def violation(self, kind: str, message: str) -> None:
        with self.lock:
            self.violations.append((kind, message))
            shown = sum(1 for k, _ in self.violations if k == kind)
        if shown <= 10:
            print("soak: VIOLATION %s: %s" % (kind, message[:2000]), file=sys.stderr, flush=True)
        elif shown == 11:
            print("soak: (further %s violations are counted in the summary only)" % kind, file=sys.stderr, flush=True)

    def acknowledge(self, index: int, digest: str, source: str, duplicate: bool) -> None:
        with self.lock:
            self.acks.append(Ack(index, digest, source, duplicate))
            known = self.by_digest.get(digest)
            other = self.by_index.get(index)
            self.by_digest.setdefault(digest, index)
            self.by_index.setdefault(index, digest)
        if known is not None and known != index:
            self.violation(
                "two-indexes", "%s was acknowledged at index %d and at index %d (%s)" % (digest, known, index, source)
            )
        if other is not None and other != digest:
            self.violation(
                "two-digests", "index %d was acknowledged for %s and for %s (%s)" % (index, other, digest, source)
            )


class Soak:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.cairn = os.path.abspath(args.cairn)
        self.random = random.Random(args.seed)
        self.state = State()
        self.run_id = "%08x" % self.random.getrandbits(32)
        self.stop = threading.Event()
        self.load_on = threading.Event()  # cleared while an idle kill waits
        self.load_on.set()
        self.busy_lock = threading.Lock()
        self.busy = 0  # load threads in the middle of a request or command
        self.server: subprocess.Popen | None = None
        self.listening = threading.Event()
        self.port = 0
        self.incarnation = 0
        self.kills: dict = {"busy": 0, "idle": 0, "startup": 0, "draining": 0}
        self.extra_kills = 0  # the kill before each startup kill
        self.fsck_passes = 0
        self.fsck_seconds = 0.0
        self.restart_seconds: list = []
        self.threads: list = []
        self.started = time.monotonic()

    # -- paths and commands

    def setup_paths(self) -> None:
        if self.args.workdir:
            self.work = os.path.abspath(self.args.workdir)
            os.makedirs(self.work, exist_ok=False)
        else:
            self.work = tempfile.mkdtemp(prefix="cairn-soak.")
        self.ledger = os.path.join(self.work, "ledger")
        self.access_log = os.path.join(self.ledger, "access-log")
        self.inputs = os.path.join(self.work, "inputs")
        os.makedirs(self.inputs)
        self.spools = [os.path.join(self.work, "spool-%d" % i) for i in range(self.args.spools)]
        self.server_log_path = os.path.join(self.work, "server.log")
        self.server_log = open(self.server_log_path, "ab")

    def cairn_run(self, *arguments: str, timeout: float = 600, input_bytes: bytes | None = None):
        """Runs cairn; a command that hangs is killed after `timeout` and reported as exit 124."""
        try:
            return subprocess.run(
                [self.cairn, *arguments], input=input_bytes, capture_output=True, timeout=timeout, env=self.env
            )
        except subprocess.TimeoutExpired as expired:
            return subprocess.CompletedProcess(
                expired.cmd, 124, expired.stdout or b"",
                (expired.stderr or b"") + b"\nsoak: killed after %d s without finishing" % timeout)

    def guarded(self, target, *arguments) -> threading.Thread:
        """A load thread whose unexpected exception is a violation, not a silent death."""

        def run() -> None:
            try:
                target(*arguments)
            except Exception:  # noqa: BLE001 - reported, with the traceback
                self.state.violation("soak-error", "%s stopped: %s" % (target.__name__, traceback.format_exc()))

        return threading.Thread(target=run, daemon=True)

    @property
    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAIRN_")}
        env["HOME"] = self.work  # the default spool is never used, but never the user's either
        return env

    def make_token(self, role: str, name: str) -> str:
        result = self.cairn_run("token", "create", "--ledger", self.ledger, "--role", role, "--name", name, "--json")
        if result.returncode != 0:
            raise SystemExit("soak: cannot create a token: %s" % result.stderr.decode(errors="replace"))
        token = json.loads(result.stdout)["token"]
        path = os.path.join(self.work, "token-%s" % name)
        with open(path, "w") as f:
            f.write(token + "\n")
        os.chmod(path, 0o600)
        return token

    # -- records

    def make_record(self, source: str, seq: int, rng: random.Random, large: bool = False) -> dict:
        """A record no other call makes (run id, source, sequence number): unique by content."""
        tag = "%s-%s-%d" % (self.run_id, source, seq)
        if self.args.profile == "generic":
            return {"soak": self.run_id, "source": source, "seq": seq, "pad": "p" * rng.randint(0, 200)}
        h = hashlib.sha1(tag.encode()).hexdigest()
        prompt = ("soak prompt %s " % tag) + ("x" * (20000 if large else rng.randint(0, 300)))
        return {
            "type": "checkpoint",
            "schema": 1,
            "id": "soak-" + tag,
            "timestamp": utc_now(),
            "requested_by": "soak@example.com",
            "tool_path": "ci",
            "model": {"id": "soak-model", "version": "1", "provider": "soak"},
            "prompt": prompt,
            "outputs": [
                {
                    "repo": "soak/repo",
                    "commit": h,
                    "path": "src/%s.txt" % source,
                    "ranges": [[1, 1 + seq % 100]],
                    "content_hash": address(tag.encode()),
                    "contributor": "ai",
                }
            ],
        }

    # -- the server

    def start_server(self) -> subprocess.Popen:
        self.incarnation += 1
        self.listening.clear()
        self.server_log.write(b"\n=== soak: start %d at %s\n" % (self.incarnation, utc_now().encode()))
        self.server_log.flush()
        listen = "127.0.0.1:%d" % self.port
        process = subprocess.Popen(
            [
                self.cairn, "serve", "--ledger", self.ledger, "--listen", listen, "--rate-limit", "0",
                "--log-level", "warning", "--log-format", "text",
            ],
            stdout=subprocess.PIPE, stderr=self.server_log, env=self.env,
        )

        def watch(stream, event):
            for line in stream:
                if line.startswith(b"listening on"):
                    event.set()

        threading.Thread(target=watch, args=(process.stdout, self.listening), daemon=True).start()
        self.server = process
        return process

    def wait_listening(self, process: subprocess.Popen, what: str) -> bool:
        began = time.monotonic()
        deadline = began + self.args.restart_deadline
        while time.monotonic() < deadline:
            if self.listening.wait(0.05):
                self.restart_seconds.append(time.monotonic() - began)
                return True
            if process.poll() is not None:
                break
        status = process.poll()
        self.state.violation(
            "no-restart",
            "%s: the server did not listen on port %d within %.0f s (%s); its stderr is in %s"
            % (what, self.port, self.args.restart_deadline,
               "exited with status %s" % status if status is not None else "still running", self.server_log_path),
        )
        return False

    def kill_server(self, mode: str | None) -> bool:
        """SIGKILLs the server; `mode` is the kind of moment counted (None: a kill that only
        prepares a startup kill, counted as a restart)."""
        process = self.server
        assert process is not None
        status = process.poll()
        if status is not None:
            self.state.violation(
                "server-died", "the server (start %d) exited on its own with status %s before kill %d; see %s"
                % (self.incarnation, status, sum(self.kills.values()) + 1, self.server_log_path))
            return False
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        if process.returncode != -signal.SIGKILL:
            # Only a server told to stop (draining) may have exited between poll() and kill().
            if mode != "draining" or process.returncode != 0:
                self.state.violation("server-died", "the server (start %d) exited with status %s before it was killed"
                                     % (self.incarnation, process.returncode))
            self.state.count("graceful stops that beat the kill")
            return True
        if mode is None:
            self.extra_kills += 1
        else:
            self.kills[mode] += 1
        return True

    def fsck(self, when: str) -> bool:
        ok = True
        for name, directory in (("ledger", self.ledger), ("access log", self.access_log)):
            began = time.monotonic()
            result = self.cairn_run("fsck", "--ledger", directory, "--json")
            self.fsck_seconds += time.monotonic() - began
            if result.returncode == 0:
                self.fsck_passes += 1
            else:
                ok = False
                self.state.violation(
                    "fsck", "%s: fsck of the %s %s exited %d: %s %s" % (
                        when, name, directory, result.returncode, result.stdout.decode(errors="replace").strip(),
                        result.stderr.decode(errors="replace").strip()))
        return ok

    # -- load

    def enter(self) -> None:
        with self.busy_lock:
            self.busy += 1

    def leave(self) -> None:
        with self.busy_lock:
            self.busy -= 1

    def wait_for_load_gate(self) -> bool:
        while not self.stop.is_set():
            if self.load_on.wait(0.1):
                return True
        return False

    def http_producer(self, number: int, token: str) -> None:
        rng = random.Random(self.random.getrandbits(64))
        source = "p%d" % number
        seq = 0
        connection: http.client.HTTPConnection | None = None
        headers = {"Authorization": "Bearer " + token, "Content-Type": "application/x-ndjson"}
        while self.wait_for_load_gate():
            self.enter()
            try:
                count = 1 if rng.random() < 0.3 else rng.randint(2, self.args.batch_max)
                large_at = rng.randrange(count) if self.args.profile == "provenance" and rng.random() < 0.02 else -1
                lines = []
                for i in range(count):
                    seq += 1
                    lines.append(canonical(self.make_record(source, seq, rng, large=(i == large_at))))
                digests = [address(line) for line in lines]
                with self.state.lock:
                    self.state.sent.update(digests)
                body = b"\n".join(lines) + b"\n"
                attempt = 0
                while True:
                    attempt += 1
                    try:
                        if connection is None:
                            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                        connection.request("POST", "/v1/entries", body=body, headers=headers)
                        response = connection.getresponse()
                        payload = response.read()
                        status = response.status
                        request_id = response.getheader("Cairn-Request-Id", "")
                        retry_after = response.getheader("Retry-After")
                    except (OSError, http.client.HTTPException):
                        if connection is not None:
                            connection.close()
                        connection = None
                        self.state.count("http retries after a connection failure")
                        time.sleep(rng.uniform(0.02, 0.2))
                        continue
                    if status == 200:
                        self.take_http_receipts(payload, request_id, lines, digests, attempt, large_at)
                        break
                    if status in (429, 503):
                        self.state.count("http %d answers" % status)
                        time.sleep(min(float(retry_after or 0.2), 2.0))
                        continue
                    self.state.violation(
                        "http-status", "producer %s: POST /v1/entries answered %d: %s"
                        % (source, status, payload[:500].decode(errors="replace")))
                    break
            finally:
                self.leave()
            time.sleep(rng.uniform(0, self.args.pause))
        if connection is not None:
            connection.close()

    def take_http_receipts(self, payload, request_id, lines, digests, attempt, large_at) -> None:
        try:
            receipts = json.loads(payload)
            assert isinstance(receipts, list) and len(receipts) == len(lines)
            parsed = [(int(r["index"]), str(r["digest"]), bool(r["duplicate"])) for r in receipts]
        except (ValueError, AssertionError, KeyError, TypeError):
            self.state.violation("http-receipts", "a 200 answer is not one receipt per record: %r" % payload[:300])
            return
        for position, (index, digest, duplicate) in enumerate(parsed):
            if digest != digests[position]:
                if position == large_at:
                    with self.state.lock:
                        self.state.stored[digests[position]] = digest  # the server moved the prompt to a blob
                else:
                    self.state.violation(
                        "http-digest", "record %s was acknowledged with digest %s" % (digests[position], digest))
            if duplicate and attempt == 1:
                self.state.violation(
                    "http-duplicate", "a record sent for the first time was answered duplicate: %s at %d"
                    % (digest, index))
            self.state.acknowledge(index, digest, "http", duplicate)
        with self.state.lock:
            self.state.http_appends.append(HTTPAppend(request_id, parsed))
        self.state.count("http records acknowledged", len(parsed))
        self.state.count("http requests acknowledged")
        if attempt > 1:
            self.state.count("http requests acknowledged after a retry")

    def parse_lines(self, output: bytes, what: str) -> list:
        rows = []
        for line in output.decode(errors="replace").splitlines():
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except ValueError:
                self.state.violation("cli-output", "%s printed a line that is not JSON: %r" % (what, line[:300]))
        return rows

    def cli_appender(self, number: int, token_file: str) -> None:
        rng = random.Random(self.random.getrandbits(64))
        source = "c%d" % number
        spool = self.spools[number % len(self.spools)]
        seq = 0
        url = "http://127.0.0.1:%d" % self.port
        while self.wait_for_load_gate():
            self.enter()
            try:
                count = rng.randint(1, self.args.cli_batch_max)
                lines = []
                for _ in range(count):
                    seq += 1
                    lines.append(canonical(self.make_record(source, seq, rng)))
                digests = [address(line) for line in lines]
                with self.state.lock:
                    self.state.sent.update(digests)
                path = os.path.join(self.inputs, "%s-%d.jsonl" % (source, seq))
                with open(path, "wb") as f:
                    f.write(b"\n".join(lines) + b"\n")
                result = self.cairn_run(
                    "append", "--server", url, "--token-file", token_file, "--spool", spool, "--timeout", "10", path)
                rows = self.parse_lines(result.stdout, "cairn append --server")
                if result.returncode not in (0, 75):
                    self.state.violation(
                        "cli-append", "cairn append --server --spool %s exited %d: %s"
                        % (spool, result.returncode, result.stderr.decode(errors="replace").strip()[-800:]))
                if len(rows) != count and result.returncode in (0, 75):
                    self.state.violation(
                        "cli-append", "cairn append --server printed %d lines for %d records (exit %d)"
                        % (len(rows), count, result.returncode))
                for position, row in enumerate(rows[:count]):
                    if row.get("digest") != digests[position]:
                        self.state.violation(
                            "cli-append", "line %d names %s, the record is %s" % (
                                position + 1, row.get("digest"), digests[position]))
                    if row.get("spooled") is True:
                        with self.state.lock:
                            self.state.spooled.add(digests[position])
                        self.state.count("cli records spooled")
                    elif "index" in row:
                        self.state.acknowledge(int(row["index"]), str(row["digest"]), "cli", bool(row["duplicate"]))
                        self.state.count("cli records acknowledged")
                self.state.count("cli appends (exit %d)" % result.returncode)
                if rng.random() < 0.15:
                    self.flush(spool, token_file, final=False)
            finally:
                self.leave()
            time.sleep(rng.uniform(0, self.args.pause * 4))

    def flush(self, spool: str, token_file: str, final: bool) -> int:
        url = "http://127.0.0.1:%d" % self.port
        result = self.cairn_run("spool", "flush", "--server", url, "--token-file", token_file, "--spool", spool,
                                "--timeout", "10")
        for row in self.parse_lines(result.stdout, "cairn spool flush"):
            if row.get("dead_letter"):
                self.state.violation("dead-letter", "spool %s: a record was refused: %s" % (spool, json.dumps(row)))
            elif "index" in row:
                self.state.acknowledge(int(row["index"]), str(row["digest"]), "flush", bool(row["duplicate"]))
                self.state.count("spool records flushed")
        self.state.count("spool flushes (exit %d)" % result.returncode)
        if result.returncode not in (0, 75) or (final and result.returncode != 0):
            self.state.violation(
                "spool-flush", "cairn spool flush --spool %s exited %d: %s"
                % (spool, result.returncode, result.stderr.decode(errors="replace").strip()[-800:]))
        return result.returncode

    def local_appender(self, number: int) -> None:
        rng = random.Random(self.random.getrandbits(64))
        source = "l%d" % number
        seq = 0
        while self.wait_for_load_gate():
            self.enter()
            try:
                count = rng.randint(1, 10)
                lines = []
                for _ in range(count):
                    seq += 1
                    lines.append(canonical(self.make_record(source, seq, rng)))
                digests = [address(line) for line in lines]
                with self.state.lock:
                    self.state.sent.update(digests)
                result = self.cairn_run("append", "--ledger", self.ledger, input_bytes=b"\n".join(lines) + b"\n")
                rows = self.parse_lines(result.stdout, "cairn append --ledger")
                if result.returncode != 0 or len(rows) != count:
                    self.state.violation(
                        "local-append", "cairn append --ledger exited %d with %d lines for %d records: %s"
                        % (result.returncode, len(rows), count, result.stderr.decode(errors="replace").strip()[-800:]))
                for position, row in enumerate(rows[:count]):
                    if row.get("digest") != digests[position]:
                        self.state.violation("local-append", "line %d names %s, the record is %s" % (
                            position + 1, row.get("digest"), digests[position]))
                    self.state.acknowledge(int(row["index"]), str(row["digest"]), "local", bool(row["duplicate"]))
                    if row.get("duplicate"):
                        self.state.violation("local-append", "a new record was answered duplicate: %s" % row)
                self.state.count("local records acknowledged", len(rows))
            finally:
                self.leave()
            time.sleep(rng.uniform(0.1, self.args.pause * 20))

    def reader(self, token: str) -> None:
        rng = random.Random(self.random.getrandbits(64))
        connection: http.client.HTTPConnection | None = None
        while self.wait_for_load_gate():
            with self.state.lock:
                ack = self.state.acks[rng.randrange(len(self.state.acks))] if self.state.acks else None
            if ack is None:
                time.sleep(0.05)
                continue
            self.enter()
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                connection.request("GET", "/v1/entries/%d?raw=true" % ack.index,
                                   headers={"Authorization": "Bearer " + token})
                response = connection.getresponse()
                payload = response.read()
                if response.status == 200:
                    if address(payload) != ack.digest:
                        self.state.violation("read", "entry %d read as %s, acknowledged as %s" % (
                            ack.index, address(payload), ack.digest))
                    with self.state.lock:
                        self.state.reads.append(response.getheader("Cairn-Request-Id", ""))
                    self.state.count("reads answered 200")
                elif response.status in (429, 503):
                    self.state.count("reads answered %d" % response.status)
                else:
                    self.state.violation("read", "GET /v1/entries/%d (acknowledged %s by %s) answered %d: %s" % (
                        ack.index, ack.digest, ack.source, response.status, payload[:300].decode(errors="replace")))
            except (OSError, http.client.HTTPException):
                if connection is not None:
                    connection.close()
                connection = None
                time.sleep(0.05)
            finally:
                self.leave()
            time.sleep(rng.uniform(0, self.args.pause * 2))

    # -- checks

    def export(self, ledger: str, directory: str) -> tuple[int, list[bytes]]:
        result = self.cairn_run("export", "tiles", "--ledger", ledger, directory)
        if result.returncode != 0:
            raise RuntimeError("cairn export tiles %s exited %d: %s" % (
                ledger, result.returncode, result.stderr.decode(errors="replace").strip()))
        return read_export(directory)

    def check_acks(self, acks: list, digests: list, when: str) -> int:
        """Every acknowledgement in `acks` names the entry at its index in `digests`."""
        bad = 0
        for ack in acks:
            if ack.index >= len(digests):
                bad += 1
                if bad <= 20:
                    self.state.violation("lost", "%s: %s acknowledged at index %d (%s) is beyond the tree size %d" % (
                        when, ack.digest, ack.index, ack.source, len(digests)))
            elif digests[ack.index] != ack.digest:
                bad += 1
                if bad <= 20:
                    self.state.violation("lost", "%s: index %d holds %s, but %s was acknowledged there (%s)" % (
                        when, ack.index, digests[ack.index], ack.digest, ack.source))
        if bad > 20:
            self.state.violation("lost", "%s: %d acknowledgements in all do not hold" % (when, bad))
        return bad

    def check_after_kill(self, label: str) -> None:
        """The acknowledgements made so far (all before the kill, or by local appends that
        committed before this snapshot of them) hold in an export taken after it."""
        with self.state.lock:
            acks = list(self.state.acks)
        try:
            _, entries = self.export(self.ledger, os.path.join(self.work, "export-incremental"))
        except (RuntimeError, ValueError, OSError) as error:
            self.state.violation("export", "after %s: %s" % (label, error))
            return
        self.check_acks(acks, [address(e) for e in entries], "after " + label)

    def final_checks(self) -> dict:
        size, entries = self.export(self.ledger, os.path.join(self.work, "export-final"))
        digests = [address(e) for e in entries]
        result = self.check_log(digests)
        _, access_entries = self.export(self.access_log, os.path.join(self.work, "export-access-log"))
        result["access_log"] = self.check_access_log(digests, access_entries)
        result["tree_size"] = size
        return result

    def check_log(self, digests: list) -> dict:
        """The final checks of the main log, whose entries' content addresses are `digests`."""
        state = self.state
        self.check_acks(state.acks, digests, "at the end")

        positions: dict = {}
        for index, digest in enumerate(digests):
            positions.setdefault(digest, []).append(index)
        twice = {d: p for d, p in positions.items() if len(p) > 1}
        for digest, where in list(twice.items())[:20]:
            state.violation("duplicate", "%s is in the log %d times, at %s" % (digest, len(where), where))
        if len(twice) > 20:
            state.violation("duplicate", "%d digests in all are in the log more than once" % len(twice))
        known = state.sent | set(state.stored.values())
        unknown = [i for i, d in enumerate(digests) if d not in known]
        if unknown:
            state.violation("unknown-entry", "%d entries the soak never sent, first at index %d" % (
                len(unknown), unknown[0]))
        missing_spooled = [d for d in state.spooled if d not in positions]
        for digest in missing_spooled[:20]:
            state.violation("spool-lost", "%s was spooled and is not in the log" % digest)
        if len(missing_spooled) > 20:
            state.violation("spool-lost", "%d spooled records in all are not in the log" % len(missing_spooled))
        # Every record the soak sent is in the log: HTTP producers retry until acknowledged, CLI
        # appenders either get a receipt or spool, and the spools were flushed empty. A record
        # whose prompt the server moved to a blob is there under its receipt's digest.
        absent = [d for d in state.sent if d not in positions and state.stored.get(d) not in positions]
        if absent:
            state.violation("not-in-log", "%d records the soak sent are not in the log, e.g. %s" % (
                len(absent), absent[0]))
        return {"spooled": len(state.spooled), "duplicates": len(twice)}

    def check_access_log(self, digests: list, entries: list) -> dict:
        """The access log (`entries`, raw) against the main log's content addresses `digests`."""
        state = self.state
        size = len(entries)
        appends: dict = {}
        ranges = []
        access_ids = set()
        unrecorded = []
        for entry in entries:
            record = json.loads(entry)
            if record.get("type") == "append":
                appends[record["request_id"]] = record
                if record.get("count", 0) > 0:
                    ranges.append((int(record["first"]), int(record["count"]), record))
            elif record.get("type") == "access" and record.get("status") == 200:
                access_ids.add(record["request_id"])
            elif record.get("type") == "unrecorded":
                unrecorded.append(record)
        covered = bytearray(len(digests))

        def cover(first: int, count: int, hasher, what: str, exclusive: bool = False) -> bool:
            """Marks entries first..first+count-1 covered and feeds their content addresses to
            `hasher`; False (a violation) when they run beyond the log."""
            if first < 0 or first + count > len(digests):
                state.violation("access-log", "%s claims %d..%d beyond the log's size %d" % (
                    what, first, first + count - 1, len(digests)))
                return False
            for i in range(first, first + count):
                hasher.update(bytes.fromhex(digests[i][7:]))
                if exclusive and covered[i]:
                    state.violation("access-log", "index %d is claimed by two append entries" % i)
                covered[i] = 1
            return True

        for first, count, record in ranges:
            hasher = hashlib.sha256()
            what = "append entry %s" % record["request_id"]
            if cover(first, count, hasher, what, exclusive=True) and hasher.hexdigest() != record["entries_sha256"]:
                state.violation("access-log", "%s: entries_sha256 does not match entries %d..%d" % (
                    what, first, first + count - 1))
        # A retry names the entries its first attempt committed as duplicates (`duplicate_runs`):
        # they count as covered, and their hash must match too.
        for record in appends.values():
            runs = record.get("duplicate_runs")
            if not runs:
                continue
            hasher = hashlib.sha256()
            what = "append entry %s (duplicates)" % record["request_id"]
            inside = all([cover(int(first), int(count), hasher, what) for first, count in runs])
            if inside and hasher.hexdigest() != record.get("duplicates_sha256"):
                state.violation("access-log", "%s: duplicates_sha256 does not match its runs" % what)
        # Entries a kill left without their append entry, recorded at the next start (`unrecorded`
        # runs, with their appender): covered, and their hash must match.
        reconciled = 0
        for record in unrecorded:
            for run in record.get("runs", []):
                first, count = int(run["first"]), int(run["count"])
                hasher = hashlib.sha256()
                what = "unrecorded entry %s" % record["request_id"]
                if not cover(first, count, hasher, what):
                    continue
                reconciled += count
                if hasher.hexdigest() != run.get("entries_sha256"):
                    state.violation("access-log", "%s: entries_sha256 does not match %d..%d" % (
                        what, first, first + count - 1))
        uncovered = [i for i in range(len(digests)) if not covered[i]]
        runs = sum(1 for n, i in enumerate(uncovered) if n == 0 or uncovered[n - 1] != i - 1)
        acked_uncovered = sorted({a.index for a in state.acks if a.index < len(covered) and not covered[a.index]})
        if acked_uncovered:
            # Kept apart from the other access-log checks: this is the window between an append's
            # commit and its access-log entry (a kill there, and the retry is acknowledged
            # "duplicate":true while no append entry names those indexes).
            detail = []
            for index in acked_uncovered[:10]:
                sources = sorted({"%s%s" % (a.source, " (duplicate)" if a.duplicate else "")
                                  for a in state.acks if a.index == index})
                detail.append("%d: %s" % (index, ", ".join(sources)))
            state.violation("access-log-gap", "%d acknowledged entries are in no append entry of the access log: %s" % (
                len(acked_uncovered), "; ".join(detail)))
        mismatched = 0
        for append in state.http_appends:
            record = appends.get(append.request_id)
            new = [(i, d) for i, d, duplicate in append.receipts if not duplicate]
            if record is None:
                mismatched += 1
                if mismatched <= 10:
                    state.violation("access-log-request", "the acknowledged append %s (%d new, %d duplicate) has no entry" % (
                        append.request_id, len(new), len(append.receipts) - len(new)))
                continue
            expected_first = new[0][0] if new else None
            hasher = hashlib.sha256()
            for _, digest in new:
                hasher.update(bytes.fromhex(digest[7:]))
            if (record.get("first") != expected_first or record.get("count") != len(new)
                    or record.get("duplicates") != len(append.receipts) - len(new)
                    or record.get("entries_sha256") != hasher.hexdigest()):
                mismatched += 1
                if mismatched <= 10:
                    state.violation("access-log-request", "append entry %s does not match its receipts: %s" % (
                        append.request_id, json.dumps(record)))
        missing_reads = [r for r in state.reads if r not in access_ids]
        if missing_reads:
            state.violation("access-log-read", "%d reads answered 200 are not in the access log, e.g. %s" % (
                len(missing_reads), missing_reads[0]))
        return {"size": size, "append_entries": len(appends), "reconciled_entries": reconciled,
                "uncovered_entries": len(uncovered),
                "uncovered_runs": runs,
                "reads_recorded": len(state.reads) - len(missing_reads)}

    # -- the checks, checked

    def self_check(self) -> list:
        """Feeds the final checks a made-up log with one defect of each kind they must find, and
        returns the kinds they missed (none, or the soak could pass without checking anything)."""
        real = self.state
        self.state = State()
        quiet = sys.stderr
        try:
            sys.stderr = open(os.devnull, "w")
            records = [canonical({"self": "check", "n": n}) for n in range(8)]
            d = [address(r) for r in records]
            st = self.state
            st.sent.update(d[:7])  # d[7] is in the log but never sent: unknown-entry
            st.spooled.update([d[6], address(b"spooled, never arrived")])  # spool-lost, not-in-log
            st.sent.add(address(b"spooled, never arrived"))
            st.acknowledge(0, d[0], "http", False)
            st.acknowledge(9, d[1], "http", False)  # beyond the log: lost
            st.acknowledge(2, d[5], "cli", False)  # another record at 2: lost (moved)
            st.acknowledge(3, d[3], "http", False)
            st.acknowledge(3, d[4], "local", False)  # two-digests
            st.acknowledge(4, d[0], "flush", True)  # two-indexes
            st.http_appends.append(HTTPAppend("r1", [(0, d[0], False)]))
            st.http_appends.append(HTTPAppend("r2", [(3, d[3], False)]))  # no access entry
            st.reads.append("read-never-recorded")
            log = [d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[2]]  # d[2] twice: duplicate
            self.check_log(log)
            hasher = hashlib.sha256(bytes.fromhex(d[0][7:]))
            access = [
                canonical({"type": "append", "request_id": "r1", "first": 0, "count": 1, "duplicates": 0,
                           "entries_sha256": hasher.hexdigest()}),
                canonical({"type": "append", "request_id": "r3", "first": 1, "count": 1, "duplicates": 0,
                           "entries_sha256": "00" * 32}),  # does not match entry 1
            ]
            self.check_access_log(log, access)  # index 3 acknowledged, in no append entry: gap
            found = {kind for kind, _ in self.state.violations}
        finally:
            sys.stderr.close()
            sys.stderr = quiet
            self.state = real
        expected = {"lost", "two-digests", "duplicate", "unknown-entry", "spool-lost", "not-in-log",
                    "access-log", "access-log-request", "access-log-read", "access-log-gap", "two-indexes"}
        return sorted(expected - found)

    # -- the run

    def run(self) -> int:
        args = self.args
        missed = self.self_check()
        if missed:
            print("soak: the soak's own checks missed made-up defects: %s" % ", ".join(missed), file=sys.stderr)
            return 2
        self.setup_paths()
        print("soak: work directory %s, seed %s, %d kills" % (self.work, args.seed, args.kills), flush=True)
        result = self.cairn_run("init", "--origin", "soak.example/" + self.run_id, "--profile", args.profile,
                                "--ledger", self.ledger)
        if result.returncode != 0:
            raise SystemExit("soak: cairn init failed: %s" % result.stderr.decode(errors="replace"))
        producer_tokens = [self.make_token("append", "producer-%d" % i) for i in range(args.producers)]
        self.make_token("append", "cli")
        cli_token_file = os.path.join(self.work, "token-cli")
        read_token = self.make_token("read", "reader")
        self.port = args.port or free_port()

        server = self.start_server()
        if not self.wait_listening(server, "first start"):
            return self.finish("the server never started")

        for i, token in enumerate(producer_tokens):
            self.threads.append(self.guarded(self.http_producer, i, token))
        for i in range(args.cli_appenders):
            self.threads.append(self.guarded(self.cli_appender, i, cli_token_file))
        for i in range(args.local_appenders):
            self.threads.append(self.guarded(self.local_appender, i))
        if args.readers:
            self.threads.append(self.guarded(self.reader, read_token))
        for thread in self.threads:
            thread.start()

        fatal = False
        number = 0
        while number < args.kills and not fatal:
            fatal = not self.one_kill(number + 1)
            number = sum(self.kills.values())
        return self.finish(None if not fatal else "stopped early")

    def one_kill(self, number: int) -> bool:
        """Waits for a moment of a random kind, kills the server, checks, restarts it. False when
        the soak cannot go on (fsck failed, the server did not come back)."""
        args = self.args
        # The first four kills take one moment of each kind (so the smoke run has all of them),
        # then 60% busy, 15% idle, 15% startup, 10% draining.
        kinds = ["busy", "idle", "startup", "draining"]
        mode = kinds[number - 1] if number <= 4 else self.random.choice(["busy"] * 12 + ["idle"] * 3 + [
            "startup"] * 3 + ["draining"] * 2)
        if mode == "busy":
            time.sleep(self.random.uniform(0.05, 2 * args.seconds_between))
        elif mode == "idle":
            self.load_on.clear()
            deadline = time.monotonic() + 120
            while self.busy > 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            if self.busy > 0:
                self.state.violation("stuck", "kill %d: the load did not drain within 120 s" % number)
            time.sleep(self.random.uniform(0.05, args.seconds_between))
        elif mode == "startup":  # kill the running server, restart, and kill it again while it starts
            time.sleep(self.random.uniform(0.05, args.seconds_between))
            if not self.kill_server(None) or not self.fsck("before the startup kill %d" % number):
                return False
            self.start_server()
            time.sleep(self.random.uniform(0.0, 0.4))
            self.state.count("startup kills %s listening" % ("after" if self.listening.is_set() else "before"))
        else:  # draining: SIGTERM under load, then SIGKILL while it drains and commits
            time.sleep(self.random.uniform(0.05, 2 * args.seconds_between))
            assert self.server is not None
            if self.server.poll() is None:
                self.server.send_signal(signal.SIGTERM)
                time.sleep(self.random.uniform(0.0, 0.3))
                status = self.server.poll()
                if status is not None:
                    # It finished draining first: a graceful stop, not a kill (the loop goes on).
                    self.state.count("graceful stops that beat the kill")
                    if status != 0:
                        self.state.violation("shutdown", "after SIGTERM the server exited %d" % status)
                    mode = ""
        killed_before = sum(self.kills.values())
        if mode and not self.kill_server(mode):
            return False
        if sum(self.kills.values()) == killed_before:
            mode = ""  # it exited 0 between the SIGTERM and the SIGKILL: a graceful stop
        self.load_on.set()
        label = "kill %d (%s)" % (number, mode) if mode else "graceful stop before kill %d" % number
        if not self.fsck("after " + label):
            return False
        self.check_after_kill(label)
        if not self.wait_listening(self.start_server(), "restart after " + label):
            return False
        with self.state.lock:
            acked = len(self.state.acks)
        print("soak: %s of %d ok: %d acknowledgements so far, %.0f s" % (
            label, args.kills, acked, time.monotonic() - self.started), flush=True)
        return True


    def finish(self, early: str | None) -> int:
        args = self.args
        state = self.state
        self.stop.set()
        self.load_on.set()
        for thread in self.threads:
            thread.join(timeout=180)
            if thread.is_alive():
                state.violation("stuck", "a load thread did not finish within 180 s of the stop")
        summary: dict = {}
        if early is None:
            # Drain every spool.
            token_file = os.path.join(self.work, "token-cli")
            for spool in self.spools:
                if not os.path.isdir(spool):
                    continue
                drained = False
                deadline = time.monotonic() + 180
                while time.monotonic() < deadline:
                    self.flush(spool, token_file, final=True)
                    status = self.cairn_run("spool", "status", "--spool", spool, "--json")
                    info = json.loads(status.stdout) if status.returncode == 0 else {}
                    if info.get("records") == 0 and info.get("dead_letters") == 0:
                        drained = True
                        break
                    time.sleep(0.5)
                if not drained:
                    state.violation("spool-not-drained", "spool %s still holds records or dead letters: %s" % (
                        spool, status.stdout.decode(errors="replace").strip()))
            # A graceful stop must work after all those kills.
            assert self.server is not None
            self.server.send_signal(signal.SIGTERM)
            try:
                status_code = self.server.wait(timeout=60)
                if status_code != 0:
                    state.violation("shutdown", "after SIGTERM the server exited %d" % status_code)
            except subprocess.TimeoutExpired:
                state.violation("shutdown", "the server did not exit within 60 s of SIGTERM")
                self.server.kill()
                self.server.wait()
            self.fsck("at the end")
            try:
                summary = self.final_checks()
            except (RuntimeError, ValueError, OSError) as error:
                state.violation("final-check", str(error))
        elif self.server is not None and self.server.poll() is None:
            self.server.kill()
            self.server.wait()
        self.server_log.close()
        elapsed = time.monotonic() - self.started
        sources: dict = {}
        for ack in state.acks:
            key = ack.source + (" duplicate" if ack.duplicate else "")
            sources[key] = sources.get(key, 0) + 1
        distinct = len(state.by_digest)
        report = {
            "kills": sum(self.kills.values()),
            "kills_by_moment": self.kills,
            "extra_kills_before_startup_kills": self.extra_kills,
            "records_acknowledged": distinct,
            "acknowledgements_by_source": sources,
            "records_spooled": summary.get("spooled", 0),  # all found in the log at the end
            "tree_size": summary.get("tree_size"),
            "access_log": summary.get("access_log"),
            "duplicates_found": summary.get("duplicates"),
            "fsck_passes": self.fsck_passes,
            "fsck_seconds": round(self.fsck_seconds, 1),
            "restart_seconds_max": round(max(self.restart_seconds), 2) if self.restart_seconds else None,
            "restart_seconds_mean": round(sum(self.restart_seconds) / len(self.restart_seconds), 2)
            if self.restart_seconds else None,
            "counters": dict(sorted(state.counters.items())),
            "seconds": round(elapsed, 1),
            "seed": args.seed,
            "work_directory": self.work,
            "violations": [{"kind": k, "message": m} for k, m in state.violations if k not in args.known_issue],
            "known_issues": [{"kind": k, "message": m} for k, m in state.violations if k in args.known_issue],
        }
        print(json.dumps(report, indent=2), flush=True)
        if args.summary:
            with open(args.summary, "w") as f:
                json.dump(report, f, indent=2)
        failing = [v for v in state.violations if v[0] not in args.known_issue]
        if failing or early:
            kinds = sorted({k for k, _ in failing})
            print("soak: FAILED (%s): %d violations (%s); the work directory %s is kept" % (
                early or "completed", len(failing), ", ".join(kinds), self.work), file=sys.stderr)
            return 1
        if state.violations:
            print("soak: known issues only (%s), tolerated by --known-issue" % ", ".join(
                sorted({k for k, _ in state.violations})), file=sys.stderr)
        print("soak: OK: %d kills, %d records acknowledged, 0 duplicates, %d fsck passes, %.0f s" % (
            report["kills"], distinct, self.fsck_passes, elapsed), flush=True)
        if not args.keep:
            shutil.rmtree(self.work, ignore_errors=True)
        return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cairn", required=True, help="the cairn binary")
    parser.add_argument("--kills", type=int, help="how many times to SIGKILL the server (default 100; --smoke: 5)")
    parser.add_argument("--seconds-between", type=float,
                        help="mean seconds between a restart and the next kill (default 2; --smoke: 0.6)")
    parser.add_argument("--smoke", action="store_true", help="a short run for CI: 5 kills, 0.6 s apart")
    parser.add_argument("--producers", type=int, default=4, help="HTTP producer threads (default 4)")
    parser.add_argument("--cli-appenders", type=int, default=3, help="`cairn append --server` loops (default 3)")
    parser.add_argument("--spools", type=int, default=2, help="spool directories they share (default 2)")
    parser.add_argument("--local-appenders", type=int, default=1, help="`cairn append --ledger` loops (default 1)")
    parser.add_argument("--readers", type=int, default=1, choices=[0, 1], help="a reader thread (default 1)")
    parser.add_argument("--batch-max", type=int, default=50, help="most records in one HTTP request (default 50)")
    parser.add_argument("--cli-batch-max", type=int, default=20, help="most records in one CLI append (default 20)")
    parser.add_argument("--pause", type=float, default=0.02,
                        help="most seconds a producer waits between requests (default 0.02)")
    parser.add_argument("--profile", choices=["provenance", "generic"], default="provenance")
    parser.add_argument("--port", type=int, default=0, help="the server's port (default: a free one)")
    parser.add_argument("--restart-deadline", type=float, default=60,
                        help="seconds a restarted server has to listen (default 60)")
    parser.add_argument("--seed", type=int, default=None,
                        help="random seed of the kill moments and records (default: random, printed); timing still "
                             "makes every run different")
    parser.add_argument("--workdir", help="create the run's files here (must not exist; default: a temporary dir)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory after a passing run")
    parser.add_argument("--summary", help="also write the summary JSON to this file")
    parser.add_argument("--known-issue", action="append", default=[], metavar="KIND",
                        help="report violations of this kind (e.g. access-log-gap) without failing; repeatable")
    args = parser.parse_args()
    if args.kills is None:
        args.kills = 5 if args.smoke else 100
    if args.seconds_between is None:
        args.seconds_between = 0.6 if args.smoke else 2.0
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1 << 32)
    if args.kills < 1 or args.seconds_between <= 0 or args.producers < 0 or args.spools < 1:
        parser.error("--kills and --spools must be at least 1, --seconds-between positive")
    if not (os.path.isfile(args.cairn) and os.access(args.cairn, os.X_OK)):
        print("soak: %s is not an executable cairn binary (build it first: swift build -c release)" % args.cairn,
              file=sys.stderr)
        return 2
    return Soak(args).run()


if __name__ == "__main__":
    sys.exit(main())
