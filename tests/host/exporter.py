#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""vfio-exporter as a daemon, on the host (no VFIO here: --no-attach, which
loads no BPF; the metrics themselves are tests/bpf/vfio_exporter_test.c's
and the VM test's):

  - --no-attach serves exactly the families docs/metrics.md's --no-attach
    entry names (build info, the two settings, the unseen gauge with every
    via), and -v says so;

  - bad flags: exit 64, the first stderr line names the value refused,
    nothing on stdout;
  - a busy port: exactly one stderr line, "vfio-exporter: cannot listen on
    ADDR: Address already in use", non-zero exit;
  - GET /metrics answers in the exposition format 0.0.4 (with the
    --stale-after and --retain in force; promtool check metrics finds
    nothing), on IPv4 and on [::1]; other paths 404, other methods 405, oversized requests 431,
    malformed ones libmicrohttpd's 400/413/414/505, and none of them
    writes to the log without -v;
  - two scrapers at once, beside a client reading a byte at a time,
    each get whole pages;
  - eviction: of 100 clients that connect and say nothing, the daemon
    keeps the newest 32 (its limit) and closes the others at once, and a
    scrape still goes through;
  - slow clients: 40 connections that send nothing (more than the
    connection limit), one that sends half a request, and one that sends a
    request and never reads do not delay a concurrent scrape;
  - SIGTERM and SIGINT: exit 0, promptly, even with idle clients connected.

Prints PASS:/FAIL: lines like the C tests; exits 1 on a failure.
"""
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
from suite import Suite  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
EXPORTER = ROOT / os.environ.get("O", "build") / "tools" / "vfio-exporter"
SUITE = "host/exporter"

suite = Suite(SUITE)
report = suite.report


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Daemon:
    def __init__(self, *args, listen=None):
        self.port = free_port()
        self.listen = listen or "127.0.0.1:%d" % self.port
        self.p = subprocess.Popen([str(EXPORTER), "--no-attach", "--listen", self.listen] + list(args),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.p.poll() is not None:
                raise RuntimeError("exited: %s" % self.p.stderr.read())
            try:
                socket.create_connection(self.addr(), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("not listening after 10 s")

    def addr(self):
        host, port = self.listen.rsplit(":", 1)
        return host.strip("[]"), int(port)

    def stop(self, sig=signal.SIGTERM, timeout=5):
        self.p.send_signal(sig)
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            return None, ""
        return rc, self.p.stderr.read()


def http(addr, request, timeout=3.0):
    """Send a raw request, read until close; (status, headers, body, seconds)."""
    t = time.time()
    family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(addr)
        s.sendall(request)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    if not data:
        return None, {}, "", time.time() - t
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = dict(l.split(": ", 1) for l in lines[1:])
    return status, headers, body.decode(), time.time() - t


def scrape(addr, path="/metrics", method="GET", timeout=3.0):
    return http(addr, ("%s %s HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n" % (method, path)).encode(), timeout)


def test_bad_flags():
    cases = [
        (["--listen", "nowhere"], "invalid listen address: nowhere"),
        (["--listen", "127.0.0.1:0"], "invalid listen address: 127.0.0.1:0"),
        (["--listen", "127.0.0.1:70000"], "invalid listen address: 127.0.0.1:70000"),
        (["--listen", "[::1:9707"], "invalid listen address: [::1:9707"),
        (["--listen", "localhost:9707"], "invalid listen address: localhost:9707"),
        (["--stale-after", "-1"], "invalid stale-after: -1"),
        (["--stale-after", "soon"], "invalid stale-after: soon"),
        (["--retain", "-5"], "invalid retain: -5"),
        (["-r", "nan"], "invalid retain: nan"),
        (["--retain", "5m"], "invalid retain: 5m"),
        (["--max-refs", "0"], "invalid max: 0"),
        (["--attach", "kprobe"], "unknown attach mode: kprobe"),
        (["extra"], "unexpected argument: extra"),
        (["--no-such-flag"], "unrecognized option '--no-such-flag'"),
    ]
    for args, want in cases:
        r = subprocess.run([str(EXPORTER)] + args, capture_output=True, text=True, timeout=10)
        first = r.stderr.splitlines()[0] if r.stderr else ""
        # argp names the program as invoked for getopt's own errors.
        ok = (r.returncode == 64 and not r.stdout and want in first and
              first.split(": ")[0].endswith("vfio-exporter"))
        report("bad flag %s" % " ".join(args), ok,
               "exit %d, stdout %r, first stderr line %r, want %r" % (r.returncode, r.stdout[:60], first, want))
    r = subprocess.run([str(EXPORTER), "--help"], capture_output=True, text=True, timeout=10)
    report("--help", r.returncode == 0 and "EXAMPLES" in r.stdout and "--no-attach" in r.stdout and
           "--retain=SECONDS" in r.stdout and 'container="released"' in r.stdout,
           "exit %d" % r.returncode)


def no_attach_doc_families():
    """The metric names docs/metrics.md's --no-attach entry lists."""
    text = (ROOT / "docs" / "metrics.md").read_text()
    m = re.search(r"^- \*\*`--no-attach`\*\*(.*?)(?=^- |^#|\Z)", text, re.M | re.S)
    return set(re.findall(r"`(vfioscope_\w+)`", m.group(1))) if m else set()


def test_no_attach_families():
    want = no_attach_doc_families()
    d = Daemon("-v")
    try:
        st, _, body, _ = scrape(d.addr())
        served = set(re.findall(r"^# TYPE (\S+) ", body, re.M))
        vias = set(re.findall(r'^vfioscope_unseen_vfio_processes\{via="(\w+)"\} \d+$', body, re.M))
        report("--no-attach serves the families docs/metrics.md names",
               st == 200 and want and served == want,
               "status %r, served %s, docs/metrics.md %s" % (st, sorted(served), sorted(want)))
        report("--no-attach serves the unseen gauge for every via",
               vias == {"iommufd", "cdev", "iommufd_container"}, "vias %s" % sorted(vias))
    finally:
        rc, err = d.stop()
    report("-v says what --no-attach serves",
           "--no-attach: no BPF, serving build info, settings and the unseen gauge only" in err,
           "stderr %r" % err[:200])


def test_busy_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        r = subprocess.run([str(EXPORTER), "--no-attach", "--listen", "127.0.0.1:%d" % port],
                           capture_output=True, text=True, timeout=10)
    want = "vfio-exporter: cannot listen on 127.0.0.1:%d: Address already in use\n" % port
    report("busy port", r.returncode != 0 and r.stderr == want and not r.stdout,
           "exit %d, stderr %r, want %r" % (r.returncode, r.stderr, want))


def test_serve():
    d = Daemon("--stale-after", "42", "--retain", "90")
    try:
        st, h, body, _ = scrape(d.addr())
        report("GET /metrics", st == 200 and h.get("Content-Type") ==
               "text/plain; version=0.0.4; charset=utf-8" and
               int(h.get("Content-Length", -1)) == len(body.encode()) and
               'attach="none"} 1\n' in body and "vfioscope_stale_after_seconds 42\n" in body and
               "vfioscope_retain_seconds 90\n" in body and
               "# TYPE vfioscope_build_info gauge\n" in body,
               "status %d headers %r body %r" % (st, h, body[:200]))
        promtool = shutil.which("promtool")
        if promtool:
            r = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True,
                               text=True, timeout=30)
            report("promtool check metrics", r.returncode == 0 and not r.stdout + r.stderr,
                   "exit %d: %s" % (r.returncode, (r.stdout + r.stderr)[:200]))
        else:
            print("SKIP: %s/promtool check metrics (no promtool: apt-get install prometheus)" % SUITE)
        st, h, body, _ = scrape(d.addr(), "/metrics?x=1", "HEAD")
        report("HEAD /metrics", st == 200 and body == "" and int(h["Content-Length"]) > 0, "status %d" % st)
        st, *_ = scrape(d.addr(), "/nope")
        report("404 elsewhere", st == 404, "status %d" % st)
        st, h, *_ = scrape(d.addr(), "/metrics", "POST")
        report("405 for POST", st == 405 and h.get("Allow") == "GET, HEAD", "status %r headers %r" % (st, h))
        st, *_ = http(d.addr(), b"DELETE /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello")
        report("405 for a method with a body", st == 405, "status %r" % st)
        st, *_ = http(d.addr(), b"GET /metrics HTTP/1.1\r\nX-Pad: " + b"a" * 10000 + b"\r\n\r\n")
        report("431 for an oversized request", st == 431, "status %r" % st)
        # Malformed requests get libmicrohttpd's answers.
        for req, want in [
            (b"GET /metrics\r\n\r\n", 400),                               # no version
            (b"GET /metrics FOO/1.1\r\n\r\n", 400),
            (b"GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n", 400),
            (b"GET /metrics HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
            (b"GET /metrics HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413),
            (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", 414),
            (b"GET /metrics HTTP/2.0\r\n\r\n", 505),
        ]:
            st, *_ = http(d.addr(), req)
            report("%d for %r" % (want, req[:40]), st == want, "status %r" % st)
        # libmicrohttpd 0.9.75 (Debian 12) closes, without an answer, a
        # connection whose request line has no space; later versions
        # answer 400.  Either way at once, not at the deadline.
        st, _, _, secs = http(d.addr(), b"garbage\r\n\r\n")
        report("garbage: closed or 400, at once", st in (None, 400) and secs < 1,
               "status %r after %.2f s" % (st, secs))
        st, _, body, _ = scrape(d.addr())
        report("serving after bad requests", st == 200 and "vfioscope_build_info" in body, "status %r" % st)
        rc, err = d.stop(signal.SIGTERM)
        report("SIGTERM exits 0", rc == 0, "exit %r, stderr %r" % (rc, err))
        # A client could fill the log: what it did wrong is said with -v only.
        report("bad requests leave no log line without -v", "vfio-exporter: http: " not in err,
               "stderr %r" % err)
    finally:
        if d.p.poll() is None:
            d.p.kill()


def test_verbose_log():
    d = Daemon("-v")
    try:
        st, *_ = http(d.addr(), b"GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n")
        rc, err = d.stop(signal.SIGTERM)
        lines = [l for l in err.splitlines() if l.startswith("vfio-exporter: http: ")]
        report("-v logs bad requests", st == 400 and rc == 0 and lines, "status %r stderr %r" % (st, err))
    finally:
        if d.p.poll() is None:
            d.p.kill()


def test_two_scrapers():
    """Two scrapers at once, beside a client reading its page a byte at a
    time: each gets every page whole (its Content-Length, the same series)."""
    d = Daemon()
    errors = []
    try:
        _, _, ref, _ = scrape(d.addr())
        names = sorted(l.split(" ")[0] for l in ref.splitlines() if not l.startswith("#"))

        def scraper(n):
            for _ in range(n):
                st, h, body, _ = scrape(d.addr())
                got = sorted(l.split(" ")[0] for l in body.splitlines() if not l.startswith("#"))
                if (st != 200 or int(h.get("Content-Length", -1)) != len(body.encode()) or
                        not body.endswith("\n") or got != names):
                    errors.append("status %r, %d bytes of %s" % (st, len(body), h.get("Content-Length")))

        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        slow.connect(d.addr())
        slow.sendall(b"GET /metrics HTTP/1.1\r\n\r\n")
        threads = [threading.Thread(target=scraper, args=(300,)) for _ in range(2)]
        for t in threads:
            t.start()
        data = b""
        slow.settimeout(5)
        while True:
            c = slow.recv(1)
            if not c:
                break
            data += c
        for t in threads:
            t.join()
        slow.close()
        head, _, body = data.partition(b"\r\n\r\n")
        if (b"\r\nContent-Length: %d\r\n" % len(body) not in head + b"\r\n" or
                not body.endswith(b"\n")):
            errors.append("slow reader: %d bytes, head %r" % (len(body), head))
        report("two scrapers and a slow reader get whole pages", not errors, "; ".join(errors[:3]))
    except (OSError, RuntimeError) as e:
        report("two scrapers", False, str(e))
    finally:
        if d.p.poll() is None:
            d.p.kill()


def test_ipv6():
    try:
        port = free_port(socket.AF_INET6, "::1")
    except OSError as e:
        print("SKIP: %s/ipv6 (no ::1 here: %s)" % (SUITE, e))
        return
    d = Daemon(listen="[::1]:%d" % port)
    try:
        st, _, body, _ = scrape(d.addr())
        report("GET /metrics on [::1]", st == 200 and "vfioscope_build_info" in body, "status %d" % st)
        rc, err = d.stop(signal.SIGINT)
        report("SIGINT exits 0", rc == 0, "exit %r, stderr %r" % (rc, err))
    finally:
        if d.p.poll() is None:
            d.p.kill()


def test_slow_clients():
    d = Daemon()
    idle = []
    try:
        # More silent clients than the daemon has slots (32).
        for _ in range(40):
            idle.append(socket.create_connection(d.addr()))
        newest_silent = time.time()
        half = socket.create_connection(d.addr())
        half.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        idle.append(half)
        # A client that asks and never reads, with a tiny receive window.
        # Its requests go in one write: every response closes its
        # connection, and a close with requests still unread resets it,
        # so a later write of ours would fail (EPIPE) if the daemon were
        # quick enough to answer in between.
        deaf = socket.socket()
        deaf.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        deaf.connect(d.addr())
        deaf.sendall(b"GET /metrics HTTP/1.1\r\n\r\n" * 50)
        idle.append(deaf)
        times = []
        for _ in range(5):
            st, _, body, secs = scrape(d.addr(), timeout=2)
            times.append(secs)
            if st != 200 or "vfioscope_build_info" not in body:
                raise AssertionError("status %d" % st)
        report("scrapes beside 40 silent, 1 half-sent and 1 deaf client",
               max(times) < 0.5, "slowest scrape %.3f s" % max(times))
        # A client that sends and resets: the daemon lives on (no SIGPIPE).
        for _ in range(20):
            s = socket.create_connection(d.addr())
            s.sendall(b"GET /metrics HTTP/1.1\r\n\r\n")
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()
        st, *_ = scrape(d.addr())
        report("clients resetting mid-response", st == 200 and d.p.poll() is None, "status %d" % st)
        # Deadlines: the newest silent client (the oldest ones were evicted
        # for the newcomers) is closed by the daemon 5 s after it came.
        idle[-3].settimeout(8)
        try:
            got = idle[-3].recv(1)
        except OSError:
            got = b""
        age = time.time() - newest_silent
        report("a silent client is closed at its deadline", got == b"" and 4.5 < age < 7,
               "recv %r %.1f s after connecting" % (got, age))
        t = time.time()
        rc, err = d.stop(signal.SIGTERM)
        report("SIGTERM with clients connected exits 0 promptly",
               rc == 0 and time.time() - t < 2, "exit %r after %.2f s" % (rc, time.time() - t))
    except (AssertionError, OSError, RuntimeError) as e:
        report("slow clients", False, str(e))
    finally:
        for s in idle:
            s.close()
        if d.p.poll() is None:
            d.p.kill()


def test_eviction():
    d = Daemon()
    idle = []
    try:
        idle = [socket.create_connection(d.addr()) for _ in range(100)]
        time.sleep(0.5)
        closed = []
        for s in idle:
            r, _, _ = select.select([s], [], [], 0)
            closed.append(bool(r) and s.recv(1) == b"")
        report("100 silent clients: the oldest 68 closed, the newest 32 kept",
               closed == [True] * 68 + [False] * 32,
               "closed %d, first kept %r" % (sum(closed), closed.index(False) if False in closed else None))
        st, _, _, secs = scrape(d.addr(), timeout=2)
        report("a scrape beside 100 silent clients", st == 200 and secs < 0.5,
               "status %r after %.3f s" % (st, secs))
    except (OSError, RuntimeError) as e:
        report("eviction", False, str(e))
    finally:
        for s in idle:
            s.close()
        if d.p.poll() is None:
            d.p.kill()


def listeners(port):
    """Local addresses (hex, as /proc/net/tcp{,6} write them) listening on port."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                addr, p = local.split(":")
                if state == "0A" and int(p, 16) == port:
                    found.append(addr)
    return found


def test_default_loopback():
    """Without --listen, only 127.0.0.1:9707 listens: never every address."""
    port = 9707
    try:
        free_port_check = socket.socket()
        free_port_check.bind(("0.0.0.0", port))
        free_port_check.close()
    except OSError:
        print("SKIP: %s/default listen is loopback (port %d is taken on this host)" % (SUITE, port))
        return
    p = subprocess.Popen([str(EXPORTER), "--no-attach"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 10
        while time.time() < deadline and not listeners(port) and p.poll() is None:
            time.sleep(0.05)
        found = listeners(port)
        report("default listen is loopback", found == ["0100007F"],
               "listening on %r, want only 127.0.0.1 (0100007F)" % found)
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(5)


def main():
    if not EXPORTER.exists():
        print("FAIL: %s (%s not built)" % (SUITE, EXPORTER))
        return 1
    test_bad_flags()
    test_busy_port()
    test_serve()
    test_no_attach_families()
    test_verbose_log()
    test_two_scrapers()
    test_ipv6()
    test_slow_clients()
    test_eviction()
    test_default_loopback()
    return suite.status()


if __name__ == "__main__":
    sys.exit(main())
