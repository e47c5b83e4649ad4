#!/usr/bin/env python3
"""Self-test of tests/imap/hostile_imap.py: the happy path through Python's imaplib gives back
the exact bytes, names and numbers of the scenario, and every fault does what the server's
documentation says (seen through a raw socket, as a pipelining client sees it).

    hostile_imap_selftest.py        exits 0 when every check passes, 1 otherwise

Prints one line per check and "N passed, N failed" last.
"""
import base64
import contextlib
import hashlib
import imaplib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import hostile_imap  # noqa: E402  (random_message: the bodies to expect)

SMALL = b"Message-ID: <small@hostile.test>\r\nSubject: small\r\n\r\nhello, world\r\n"
FILE_BODY = (b"Message-ID: <file@hostile.test>\r\nSubject: from a file\r\n"
             b"X-Long: folded\r\n header\r\n\r\n" + b"line of text\r\n" * 40)
RANDOM = {"size": 300000, "seed": 9}
RANDOM_BODY = hostile_imap.random_message(RANDOM["size"], RANDOM["seed"])
EIGHT_BIT = b"Caf\xe9"

results = {"passed": 0, "failed": 0}


def check(name, ok, detail=""):
    results["passed" if ok else "failed"] += 1
    print(f"{'ok  ' if ok else 'FAIL'} {name}{'' if ok else ': ' + str(detail)}", flush=True)


def scenario(faults=None, **extra):
    tmp = tempfile.mkdtemp(prefix="hostile-selftest-")
    with open(os.path.join(tmp, "file.eml"), "wb") as f:
        f.write(FILE_BODY)
    spec = {
        "folders": [
            {"name": "INBOX", "uidvalidity": 42, "messages": [
                {"uid": 3, "flags": ["\\Seen", "$Label1"], "internaldate": "02-Feb-2024 11:12:13 +0100",
                 "body_b64": base64.b64encode(SMALL).decode()},
                {"uid": 5, "body_file": "file.eml"},
                {"uid": 7, "flags": ["\\Flagged"], "body_random": RANDOM}]},
            {"name": "Sent", "attributes": ["\\Sent"], "uidvalidity": 7, "messages": [
                {"uid": 1, "body_b64": base64.b64encode(SMALL).decode()}]},
            {"name": "&AMk", "messages": []},
            {"name": "&,,,,-", "subscribed": False},
            {"name": "Caf\u00e9 utf8"},
            {"name_b64": base64.b64encode(EIGHT_BIT).decode()},
        ],
        "faults": faults or {},
    }
    spec.update(extra)
    path = os.path.join(tmp, "scenario.json")
    with open(path, "w") as f:
        json.dump(spec, f)
    return tmp, path


@contextlib.contextmanager
def server(faults=None, **extra):
    tmp, path = scenario(faults, **extra)
    port_file = os.path.join(tmp, "port")
    log = os.path.join(tmp, "log")
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "hostile_imap.py"), "--scenario",
                             path, "--port-file", port_file, "--log", log])
    try:
        for _ in range(200):
            if os.path.exists(port_file):
                break
            if proc.poll() is not None:
                raise RuntimeError("hostile_imap.py exited at start")
            time.sleep(0.02)
        yield int(open(port_file).read()), log
    finally:
        proc.kill()
        proc.wait()


class Raw:
    """A pipelining client: sends bytes as given, reads whole responses (line + literals)."""

    def __init__(self, port, login=True):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""
        self.eof = False
        self.recvs = 0
        self.greeting = self.response()
        if login:
            self.send(b"L1 LOGIN alice secret\r\n")
            self.until([b"L1"])

    def send(self, data):
        self.sock.sendall(data)

    def fill(self):
        data = self.sock.recv(1 << 20)
        self.recvs += 1
        if not data:
            self.eof = True
            raise EOFError
        self.buf += data

    def take(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def response(self):
        """(text, literals): text with each literal's bytes inline, and the literals."""
        text, literals = b"", []
        while True:
            while b"\r\n" not in self.buf:
                self.fill()
            line, _, self.buf = self.buf.partition(b"\r\n")
            text += line + b"\r\n"
            m = re.search(rb"\{(\d+)\}\Z", line)
            if not m:
                return text, literals
            lit = self.take(int(m.group(1)))
            literals.append(lit)
            text += lit

    def until(self, tags):
        """Every response up to the tagged ones of all `tags`."""
        out, left = [], set(tags)
        while left:
            text, lits = self.response()
            out.append((text, lits))
            tag = text.split(b" ", 1)[0]
            left.discard(tag)
        return out


def listed_names(data):
    names = []
    for d in data:
        if isinstance(d, tuple):
            names.append(d[1])
        elif d:
            names.append(re.search(rb'"((?:[^"\\]|\\.)*)"$', d).group(1))
    return names


def fetched(out):
    """The UIDs of the untagged FETCH responses among `out`."""
    return [fetch_uid(t) for t, _ in out if re.match(rb"\* \d+ FETCH", t)]


def fetch_uid(text):
    m = re.search(rb"\bUID (\d+)", text)
    return int(m.group(1)) if m else None


def test_happy_path():
    with server() as (port, log):
        m = imaplib.IMAP4("127.0.0.1", port)
        check("greeting names IMAP4rev1 and LITERAL+", "IMAP4REV1" in m.capabilities and "LITERAL+" in m.capabilities, m.capabilities)
        typ, _ = m.login("alice@fabrikam.test*migrator", "anything")
        check("LOGIN with any password", typ == "OK")
        typ, data = m.list('""', "*")
        names = listed_names(data)
        want = [b"INBOX", b"Sent", b"&AMk", b"&,,,,-", "Caf\u00e9 utf8".encode(), EIGHT_BIT]
        check("LIST gives every name's exact bytes (8-bit as a literal)", names == want, names)
        check("LIST gives the attributes", any(b"(\\Sent)" in d for d in data if isinstance(d, bytes)), data)
        typ, data = m.lsub('""', "*")
        check("LSUB leaves out the unsubscribed", listed_names(data) == [n for n in want if n != b"&,,,,-"], data)
        typ, data = m.status("INBOX", "(UIDVALIDITY UIDNEXT MESSAGES SIZE)")
        size = len(SMALL) + len(FILE_BODY) + len(RANDOM_BODY)
        check("STATUS", data[0] == b'"INBOX" (UIDVALIDITY 42 UIDNEXT 8 MESSAGES 3 SIZE %d)' % size, data)
        typ, data = m.select("INBOX", readonly=True)
        check("EXAMINE INBOX: EXISTS", typ == "OK" and data == [b"3"], data)
        check("EXAMINE INBOX: UIDVALIDITY", m.untagged_responses.get("UIDVALIDITY") == [b"42"], m.untagged_responses)
        typ, data = m.uid("fetch", "1:*", "(UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        metas = [d for d in data if isinstance(d, tuple)]
        check("listing: three messages", len(metas) == 3, data)
        if len(metas) == 3:
            check("listing: UID FLAGS RFC822.SIZE INTERNALDATE",
                  metas[0][0] == b'1 (UID 3 FLAGS (\\Seen $Label1) RFC822.SIZE %d INTERNALDATE "02-Feb-2024 11:12:13 +0100" BODY[HEADER.FIELDS (MESSAGE-ID)] {36}' % len(SMALL), metas[0][0])
            check("listing: the Message-ID header field", metas[0][1] == b"Message-ID: <small@hostile.test>\r\n\r\n", metas[0][1])
            check("listing: sizes", [int(re.search(rb"RFC822.SIZE (\d+)", x[0]).group(1)) for x in metas] == [len(SMALL), len(FILE_BODY), len(RANDOM_BODY)])
        typ, data = m.uid("fetch", "1:*", "(UID BODY.PEEK[])")
        bodies = {fetch_uid(d[0]): d[1] for d in data if isinstance(d, tuple)}
        check("BODY.PEEK[] of 1:*: exact bytes (b64, file, random)",
              bodies == {3: SMALL, 5: FILE_BODY, 7: RANDOM_BODY}, {k: len(v) for k, v in bodies.items()})
        check("body_random: valid RFC 5322 (CRLF lines, <= 998)", all(len(l) <= 998 for l in RANDOM_BODY.split(b"\r\n")) and b"\n" not in RANDOM_BODY.replace(b"\r\n", b"") and RANDOM_BODY.endswith(b"\r\n"))
        for sset, want in (("3,7", [3, 7]), ("5:7", [5, 7]), ("4:2", [3]), ("*", [7]), ("8:*", [7])):
            typ, data = m.uid("fetch", sset, "(UID FLAGS)")
            got = [fetch_uid(d) for d in data if d]
            check(f"UID set {sset}", got == want, got)
        typ, data = m.uid("fetch", "7", "(UID BODY.PEEK[]<1000.5000>)")
        check("partial fetch: named BODY[]<origin>, the exact range",
              data[0][0].endswith(b"BODY[]<1000> {5000}") and data[0][1] == RANDOM_BODY[1000:6000], data[0][0])
        typ, data = m.uid("fetch", "7", "(UID BODY.PEEK[]<299990.1000>)")
        check("partial fetch past the end is short", data[0][1] == RANDOM_BODY[299990:], data)
        typ, data = m.fetch("1", "(BODY[HEADER] BODY[TEXT] RFC822.SIZE)")
        check("FETCH by sequence: BODY[HEADER], BODY[TEXT]", data[0][1] + data[1][1] == SMALL, data)
        typ, data = m.uid("fetch", "5", "(BODY.PEEK[HEADER.FIELDS (X-LONG)])")
        check("HEADER.FIELDS keeps folded lines", data[0][1] == b"X-Long: folded\r\n header\r\n\r\n", data)
        for name, ok in ((b"&AMk", True), (b"&AMk-", False), (b"&,,,,-", True), (b"inbox", True),
                         (b"sent", False), (EIGHT_BIT, True), (b"Caf&AOk-", False)):
            arg = ("{%d}\r\n" % len(name)).encode() + name if name == EIGHT_BIT else b'"' + name + b'"'
            tag = m._command("EXAMINE", arg) if name != EIGHT_BIT else None
            if tag is None:
                typ = "OK" if raw_examine(port, name) else "NO"
            else:
                typ, _ = m._command_complete("EXAMINE", tag)
            check(f"EXAMINE {name!r} {'works' if ok else 'is NO'}", (typ == "OK") == ok, typ)
        typ, data = m.status('"&AMk-"', "(MESSAGES)")
        check("STATUS of another spelling is NO [NONEXISTENT]", typ == "NO" and b"NONEXISTENT" in data[0], (typ, data))
        typ, data = m.status('"&AMk"', "(MESSAGES)")
        check("STATUS of the listed bytes", typ == "OK" and data == [b'"&AMk" (MESSAGES 0)'], (typ, data))
        m.select("Sent", readonly=True)
        typ, _ = m.noop()
        check("NOOP", typ == "OK")
        typ, _ = m.close()
        check("CLOSE", typ == "OK")
        m.logout()
        # Several connections at once, each in its own thread.
        got = []

        def one():
            c = imaplib.IMAP4("127.0.0.1", port)
            c.login("bob", "x")
            c.select("Sent", readonly=True)
            got.append(c.uid("fetch", "1", "(BODY.PEEK[])")[1][0][1])
            c.logout()
        threads = [threading.Thread(target=one) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        check("four connections at once", got == [SMALL] * 4, len(got))
        check("the log names the commands", "UID FETCH 1:* (UID BODY.PEEK[])" in open(log).read())


def raw_examine(port, name):
    r = Raw(port)
    r.send(b"E1 EXAMINE {%d+}\r\n" % len(name) + name + b"\r\n")
    return r.until([b"E1"])[-1][0].startswith(b"E1 OK")


def test_auth():
    with server(password="x") as (port, log):
        m = imaplib.IMAP4("127.0.0.1", port)
        try:
            m.login("alice", "wrong")
            check("password: a wrong one is refused", False)
        except imaplib.IMAP4.error as e:
            check("password: a wrong one is refused", "AUTHENTICATIONFAILED" in str(e), e)
        m = imaplib.IMAP4("127.0.0.1", port)
        typ, _ = m.authenticate("PLAIN", lambda _: b"alice@fabrikam.test\0migrator\0x")
        check("AUTHENTICATE PLAIN with an authorization identity (continuation)", typ == "OK")
        m.logout()
        r = Raw(port, login=False)
        r.send(b"A1 AUTHENTICATE PLAIN " + base64.b64encode(b"alice\0migrator\0x") + b"\r\n")
        check("AUTHENTICATE PLAIN with an initial response", r.until([b"A1"])[-1][0].startswith(b"A1 OK"))
        r = Raw(port, login=False)
        r.send(b"A1 LOGIN {5}\r\n")
        cont = r.response()[0]
        r.send(b"alice {1}\r\n")
        cont2 = r.response()[0]
        r.send(b"x\r\n")
        check("synchronizing literals get '+'", cont.startswith(b"+") and cont2.startswith(b"+") and r.until([b"A1"])[-1][0].startswith(b"A1 OK"))


def test_pipelining():
    with server() as (port, log):
        r = Raw(port)
        r.send(b"P1 NAMESPACE\r\nP2 EXAMINE {5+}\r\nINBOX\r\nP3 UID FETCH 1:* (UID FLAGS)\r\n"
               b"P4 UID FETCH 3 (UID BODY.PEEK[])\r\nP5 UID FETCH 5 (UID BODY.PEEK[])\r\n")
        out = r.until([b"P5"])
        tags = [t.split(b" ", 1)[0] for t, _ in out if not t.startswith(b"*")]
        check("pipelined commands with LITERAL+ answered in order", tags == [b"P1", b"P2", b"P3", b"P4", b"P5"], tags)
        check("NAMESPACE", out[0][0] == b'* NAMESPACE (("" "/")) NIL NIL\r\n', out[0])


def body_fetches(r, uids, tag_prefix=b"F"):
    cmds = b"".join(b"%s%d UID FETCH %d (UID BODY.PEEK[])\r\n" % (tag_prefix, i, u) for i, u in enumerate(uids))
    r.send(b"E EXAMINE INBOX\r\n")
    r.until([b"E"])
    r.send(cmds)
    return r.until([b"%s%d" % (tag_prefix, i) for i in range(len(uids))])


def fault_00():
    with server({"reorder": "reverse"}) as (port, log):
        r = Raw(port)
        out = body_fetches(r, [3, 5, 7])
        seq = [(fetch_uid(t) if t.startswith(b"*") else t.split(b" ")[0]) for t, _ in out]
        check("reorder reverse: last command answered first, each FETCH before its OK",
              seq == [7, b"F2", 5, b"F1", 3, b"F0"], seq)
        r.send(b"L UID FETCH 1:* (UID FLAGS)\r\nM UID FETCH 1:* (UID RFC822.SIZE)\r\n")
        out = r.until([b"L", b"M"])
        check("reorder: the listing stays in order", out[3][0].startswith(b"L OK") and out[-1][0].startswith(b"M OK"), out)


def fault_01():
    with server({"interleave": True}) as (port, log):
        r = Raw(port)
        r.send(b"E EXAMINE INBOX\r\n")
        r.until([b"E"])
        r.send(b"A UID FETCH 3,5 (UID BODY.PEEK[])\r\nB UID FETCH 7,3 (UID BODY.PEEK[])\r\n")
        out = r.until([b"A", b"B"])
        seq = [(fetch_uid(t) if t.startswith(b"*") else t.split(b" ")[0]) for t, _ in out]
        check("interleave: FETCHes round robin, tagged OKs after", seq == [3, 3, 5, 7, b"A", b"B"], seq)


def fault_02():
    with server({"reorder": "reverse", "interleave": True}) as (port, log):
        r = Raw(port)
        r.send(b"E EXAMINE INBOX\r\n")
        r.until([b"E"])
        r.send(b"A UID FETCH 3,5 (UID BODY.PEEK[])\r\nB UID FETCH 7 (UID BODY.PEEK[])\r\n")
        out = r.until([b"A", b"B"])
        seq = [(fetch_uid(t) if t.startswith(b"*") else t.split(b" ")[0]) for t, _ in out]
        check("reverse + interleave", seq == [7, 3, 5, b"B", b"A"], seq)


def fault_03():
    with server({"split_literals": 1, "split_sleep": 0.002}) as (port, log):
        r = Raw(port)
        out = body_fetches(r, [3])
        check("split_literals 1: exact bytes", out[0][1] == [SMALL], out)
        check("split_literals 1: arrives in pieces", r.recvs > len(SMALL) // 2, r.recvs)
        before = r.recvs
        r.send(b"N NOOP\r\n")
        r.until([b"N"])
        check("split_literals: other responses whole", r.recvs - before <= 2, r.recvs - before)


def fault_04():
    with server({"stall_after_bytes": 1000}) as (port, log):
        r = Raw(port)
        r.sock.settimeout(1.5)
        r.send(b"E EXAMINE INBOX\r\nF UID FETCH 3,7 (UID BODY.PEEK[])\r\n")
        stalled, got = False, b""
        try:
            while True:
                r.fill()
        except socket.timeout:
            stalled = True
        except EOFError:
            pass
        data = r.buf
        lit = data.find(b"{%d}\r\n" % len(RANDOM_BODY))
        got = data[lit + len(b"{%d}\r\n" % len(RANDOM_BODY)):] if lit >= 0 else b""
        check("stall_after_bytes: socket open, silent", stalled and not r.eof, (stalled, r.eof))
        check("stall_after_bytes: exactly N body bytes sent", len(SMALL) + len(got) == 1000 and got == RANDOM_BODY[:len(got)], len(got))


def fault_05():
    with server({"close_after_bytes": 1000}) as (port, log):
        r = Raw(port)
        r.send(b"E EXAMINE INBOX\r\nF UID FETCH 3,7 (UID BODY.PEEK[])\r\n")
        try:
            while True:
                r.fill()
        except EOFError:
            pass
        except socket.timeout:
            pass
        data = r.buf
        marker = b"{%d}\r\n" % len(RANDOM_BODY)
        got = data[data.find(marker) + len(marker):] if marker in data else b""
        check("close_after_bytes: closed after exactly N body bytes", r.eof and len(SMALL) + len(got) == 1000, (r.eof, len(got)))


def fault_06():
    with server({"size_lie": {"5": -3, "7": 10}}) as (port, log):
        r = Raw(port)
        r.send(b"E EXAMINE INBOX\r\nL UID FETCH 1:* (UID RFC822.SIZE)\r\n")
        out = r.until([b"L"])
        sizes = [int(re.search(rb"RFC822.SIZE (\d+)", t).group(1)) for t, _ in out if re.match(rb"\* \d+ FETCH", t)]
        check("size_lie", sizes == [len(SMALL), len(FILE_BODY) - 3, len(RANDOM_BODY) + 10], sizes)
        out = body_fetches(r, [5])
        check("size_lie: the body is still whole", out[0][1] == [FILE_BODY])


def fault_07():
    with server({"literal_lie": {"5": -10}}) as (port, log):
        r = Raw(port)
        r.send(b"E EXAMINE INBOX\r\nF UID FETCH 3,5 (UID BODY.PEEK[])\r\n")
        try:
            while True:
                r.fill()
        except (EOFError, socket.timeout):
            pass
        marker = b"{%d}\r\n" % len(FILE_BODY)
        got = r.buf[r.buf.find(marker) + len(marker):] if marker in r.buf else None
        check("literal_lie < 0: announces n, sends n-10, closes", r.eof and got == FILE_BODY[:-10], (r.eof, got and len(got)))


def fault_08():
    with server({"literal_lie": {"3": 4}}) as (port, log):
        r = Raw(port)
        out = body_fetches(r, [3, 5])
        check("literal_lie > 0: n bytes, then the extra ones where ')' belongs",
              out[0][1] == [SMALL] and out[0][0].endswith(b"ZZZZ)\r\n") and out[2][1] == [FILE_BODY], out[0][0][-20:])


def fault_09():
    with server({"wrong_uid": {"3": 5}}) as (port, log):
        r = Raw(port)
        out = body_fetches(r, [3])
        check("wrong_uid: UID 3 answered as UID 5", fetch_uid(out[0][0]) == 5 and out[0][1] == [SMALL], out)
        r.send(b"L UID FETCH 1:* (UID FLAGS)\r\n")
        out = r.until([b"L"])
        check("wrong_uid: the listing is honest", [fetch_uid(t) for t, _ in out[:-1]] == [3, 5, 7])


def fault_10():
    with server({"extra_uid": 7}) as (port, log):
        r = Raw(port)
        out = body_fetches(r, [3])
        check("extra_uid: an answer for a UID not asked", [fetch_uid(t) for t, _ in out[:-1]] == [3, 7] and out[1][1] == [RANDOM_BODY])


def fault_11():
    with server({"extra_uid": 99}) as (port, log):
        r = Raw(port)
        out = body_fetches(r, [3])
        check("extra_uid not in the folder: junk", [fetch_uid(t) for t, _ in out[:-1]] == [3, 99] and len(out[1][1][0]) == 100)


def fault_12():
    with server({"omit_uids": [5]}) as (port, log):
        r = Raw(port)
        out = body_fetches(r, [5])
        check("omit_uids: no answer, tagged OK", len(out) == 1 and out[0][0].startswith(b"F0 OK"), out)
        r.send(b"F UID FETCH 1:* (UID BODY.PEEK[])\r\nL UID FETCH 1:* (UID FLAGS)\r\n")
        out = r.until([b"F", b"L"])
        check("omit_uids: others answered, the listing honest",
              fetched(out) == [3, 7, 3, 5, 7], out)


def fault_13():
    with server({"omit_uids": [5], "apply_to_listing": True}) as (port, log):
        r = Raw(port)
        r.send(b"E EXAMINE INBOX\r\nL UID FETCH 1:* (UID FLAGS RFC822.SIZE)\r\n")
        out = r.until([b"L"])
        check("omit_uids + apply_to_listing", [fetch_uid(t) for t, _ in out if re.match(rb"\* \d+ FETCH", t)] == [3, 7], out)


def fault_14():
    with server({"ok_only": True}) as (port, log):
        r = Raw(port)
        out = body_fetches(r, [3, 5])
        check("ok_only: just the tagged OKs", [t.split(b" ")[0] for t, _ in out] == [b"F0", b"F1"], out)
        r.send(b"L UID FETCH 1:* (UID FLAGS)\r\n")
        check("ok_only: the listing honest", len(r.until([b"L"])) == 4)


def fault_15():
    with server({"ok_only": True, "apply_to_listing": True}) as (port, log):
        r = Raw(port)
        r.send(b"E EXAMINE INBOX\r\nL UID FETCH 1:* (UID FLAGS)\r\n")
        out = r.until([b"L"])
        check("ok_only + apply_to_listing", not fetched(out), out)


def fault_16():
    with server({"duplicate_uid": 5}) as (port, log):
        r = Raw(port)
        r.send(b"E EXAMINE INBOX\r\nF UID FETCH 3,5,7 (UID BODY.PEEK[])\r\n")
        out = r.until([b"F"])
        check("duplicate_uid: sent twice", [fetch_uid(t) for t, _ in out if re.match(rb"\* \d+ FETCH", t)] == [3, 5, 5, 7])


def fault_17():
    with server({"partial_origin_lie": True}) as (port, log):
        r = Raw(port)
        r.send(b"E EXAMINE INBOX\r\nF UID FETCH 7 (UID BODY.PEEK[]<1000.100>)\r\nG UID FETCH 7 (UID BODY.PEEK[])\r\n")
        out = r.until([b"F", b"G"])
        fetches = [(t, l) for t, l in out if re.match(rb"\* \d+ FETCH", t)]
        check("partial_origin_lie: BODY[]<1001> for <1000.100>, right bytes",
              b"BODY[]<1001> {100}" in fetches[-2][0] and fetches[-2][1] == [RANDOM_BODY[1000:1100]], fetches[-2][0][:60])
        check("partial_origin_lie: whole fetches untouched", b"BODY[] {%d}" % len(RANDOM_BODY) in fetches[-1][0])


def fault_18():
    with server({"omit_uids": [3], "fault_connections": [2]}) as (port, log):
        first = body_fetches(Raw(port), [3])
        second = body_fetches(Raw(port), [3])
        check("fault_connections: only the second connection", len(first) == 2 and len(second) == 1, (len(first), len(second)))


def fault_19():
    with server({"omit_uids": [1], "fault_folders": ["Sent"]}) as (port, log):
        r = Raw(port)
        r.send(b"E EXAMINE Sent\r\nF UID FETCH 1 (UID BODY.PEEK[])\r\nG EXAMINE INBOX\r\nH UID FETCH 1:* (UID BODY.PEEK[])\r\n")
        out = r.until([b"F", b"H"])
        check("fault_folders: only in Sent", [fetch_uid(t) for t, _ in out if re.match(rb"\* \d+ FETCH", t)] == [3, 5, 7], out)


def fault_20():
    users = {"bob@fabrikam.test": {"folders": [{"name": "INBOX", "messages": [{"uid": 9, "body_b64": base64.b64encode(SMALL).decode()}]}],
                                   "faults": {"ok_only": True}}}
    with server(users=users) as (port, log):
        m = imaplib.IMAP4("127.0.0.1", port)
        m.login("bob@fabrikam.test*migrator", "x")
        m.select("INBOX", readonly=True)
        listing = m.uid("fetch", "1:*", "(UID FLAGS)")[1]
        bodies = m.uid("fetch", "1:*", "(UID BODY.PEEK[])")[1]
        m.logout()
        check("users: a user's own folders and faults", fetch_uid(listing[0]) == 9 and bodies == [None], (listing, bodies))


def test_background():
    tmp, path = scenario()
    port_file, pid_file = os.path.join(tmp, "port"), os.path.join(tmp, "pid")
    rc = subprocess.run([sys.executable, os.path.join(HERE, "hostile_imap.py"), "--scenario", path,
                         "--port-file", port_file, "--pid-file", pid_file, "--background"],
                        timeout=10).returncode
    check("--background returns with the port and pid files written",
          rc == 0 and os.path.exists(port_file) and os.path.exists(pid_file), rc)
    if rc == 0:
        pid = int(open(pid_file).read())
        try:
            m = imaplib.IMAP4("127.0.0.1", int(open(port_file).read()))
            check("--background serves", m.login("a", "b")[0] == "OK")
            m.logout()
        finally:
            os.kill(pid, 9)


FAULT_CASES = [fault_00, fault_01, fault_02, fault_03, fault_04, fault_05, fault_06, fault_07, fault_08, fault_09, fault_10, fault_11, fault_12, fault_13, fault_14, fault_15, fault_16, fault_17, fault_18, fault_19, fault_20]


def test_shipped_scenarios():
    import glob
    for path in sorted(glob.glob(os.path.join(HERE, "hostile_scenarios", "*.json"))):
        try:
            hostile_imap.Scenario(path)
            check(f"scenario {os.path.basename(path)} loads", True)
        except Exception as e:
            check(f"scenario {os.path.basename(path)} loads", False, repr(e))


def main():
    for t in [test_shipped_scenarios, test_background, test_happy_path, test_auth, test_pipelining] + FAULT_CASES:
        try:
            t()
        except Exception as e:  # a check that could not even run is a failure
            import traceback
            traceback.print_exc()
            check(t.__name__, False, repr(e))
    print(f"{results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
