#!/usr/bin/env python3
"""A scriptable, misbehaving IMAP4rev1 server for tests: it plays a read-only SOURCE mailbox
and, as a scenario says, answers out of order, cuts, stalls, lies about sizes and UIDs, and
serves names no encoder would make. Python 3 standard library only.

    hostile_imap.py --scenario SCENARIO.json --port-file PORTFILE [--log FILE]
                    [--background --pid-file PIDFILE]

Binds 127.0.0.1 on a free port, writes the port to PORTFILE (atomically, once listening), and
serves every connection in its own thread until killed. Every command received is logged (to
stderr, or appended to --log FILE) as "#CONN C: <command>", long literals shortened, with
"#CONN S: ..." lines for logins, faults applied and closes. With --background (for a test that
runs it as a program and waits for it to return, as tests/imap/tcp_proxy.py): it returns once
listening, PIDFILE and PORTFILE both written; the server goes on in its own session until
killed (SIGTERM or SIGKILL to the pid in PIDFILE).

Scenario (JSON):

    {"folders": [{"name": "Sent",            # the mailbox name exactly as listed (UTF-8 bytes
                                             #   of the JSON string; \\u escapes allowed)
                  "name_b64": "...",         # or: the raw name bytes, base64 (8-bit names)
                  "attributes": ["\\\\Sent"],  # LIST attributes
                  "subscribed": true,        # in LSUB (default true)
                  "uidvalidity": 7,          # default 1
                  "uidnext": 100,            # default: highest UID + 1
                  "messages": [{"uid": 1,    # default: previous UID + 1
                                "flags": ["\\\\Seen", "$Label1"],
                                "internaldate": "01-Jan-2024 10:00:00 +0000",
                                "body_b64": "...",            # one of these three
                                "body_file": "path",          #   (relative: to the scenario)
                                "body_random": {"size": 62915040, "seed": 1}}]}],
     "password": "x",           # optional: only this password is accepted (default: any)
     "separator": "/",          # hierarchy separator (default "/")
     "capabilities": [...],     # replaces the default list (see CAPABILITIES)
     "users": {"alice@fabrikam.test": {"folders": [...], "faults": {...}}},
                                # optional: per logged-in user (the authorization identity, or
                                # the login before '*'); others get the top-level folders/faults
     "faults": {...}}

Other top-level keys (e.g. "comment") are ignored. Ready-made scenarios: tests/imap/
hostile_scenarios/*.json (the self-test loads each one).
INBOX is always there (empty unless a folder named INBOX is given). body_random is a valid
RFC 5322 message of exactly `size` bytes (CRLF lines of base64 of seeded random bytes).

Faults (all optional and combinable; they apply to body fetches, a UID FETCH or FETCH asking
for BODY[...] / BODY.PEEK[...] / RFC822 of whole messages, unless said otherwise):
    "reorder": "reverse"        the body fetches among the commands read in one go (everything
                                in the input buffer, gathered for "gather_ms", default 50 ms)
                                are answered last command first
    "interleave": true          the untagged FETCH responses of those body fetches interleaved
                                (round robin), their tagged OKs after them all
    "split_literals": N         every body-fetch response sent in pieces of N bytes, each flushed
                                with a sleep of "split_sleep" seconds (default 0.001) between
    "split_all": true           ... and every other response too (greeting included)
    "stall_after_bytes": N      after N bytes of body literal data on a connection: send nothing
                                more, keep the socket open (read and discard until the client
                                closes)
    "close_after_bytes": N      after N bytes of body literal data on a connection: close it
    "size_lie": {"UID": delta}  the listing's RFC822.SIZE of that UID is off by delta
    "literal_lie": {"UID": d}   that UID's body literal announces its true size n: d < 0 sends
                                n + d bytes then closes the connection; d > 0 sends d extra bytes
                                (garbage where ")" is expected) and goes on
    "wrong_uid": {"ASKED": ANSWERED}   a body fetch of ASKED is answered as UID ANSWERED
                                (with ASKED's body)
    "extra_uid": UID            every body fetch also answers for UID (not asked for); its body
                                if the folder has it, else 100 bytes of junk
    "omit_uids": [UID, ...]     no answer for them, tagged OK all the same
    "ok_only": true             body fetches answered with just the tagged OK
    "duplicate_uid": UID        that message's answer is sent twice
    "partial_origin_lie": true  partial fetch answers name BODY[]<origin+1> (an integer: +that)
    "apply_to_listing": true    omit_uids and ok_only apply to the listing (UID FETCH with FLAGS
                                and no body) too; by default the listing is honest
    "fault_connections": [1, 3] the faults act only on these connections (1 = the first one
                                accepted); default: every connection
    "fault_folders": ["Sent"]   the faults act only in these folders (names as listed); default:
                                every folder
With "writable": true (a target's removals):
    "expunge_first": true       a UID EXPUNGE read in one go with earlier commands (gathered as
                                for "reorder") runs before them, as RFC 3501 (5.5) lets a server
                                run commands it sees no ambiguity between (Dovecot runs UID
                                EXPUNGE beside UID STORE); the answers keep their order
    "expunge_ignored": true     UID EXPUNGE answers OK and removes nothing

Names are listed exactly with the given bytes (as a quoted string, or as a literal when they
hold 8-bit bytes, CR, LF, or NUL), and EXAMINE / SELECT / STATUS of exactly those bytes works
(INBOX in any case) while any other spelling gets NO [NONEXISTENT].

Commands: CAPABILITY, LOGIN, AUTHENTICATE PLAIN (SASL-IR or not, with an authorization
identity), NAMESPACE, LIST, LSUB, STATUS (UIDVALIDITY UIDNEXT MESSAGES UNSEEN RECENT SIZE),
SELECT/EXAMINE, FETCH and UID FETCH (sequence sets like 1:*, 3,5,7, 2:4, *; items UID FLAGS
RFC822.SIZE INTERNALDATE RFC822 RFC822.HEADER BODY[] BODY.PEEK[] BODY[]<o.l> BODY[HEADER]
BODY[TEXT] BODY[HEADER.FIELDS (...)]), NOOP, CHECK, CLOSE, UNSELECT, LOGOUT; pipelining and
LITERAL+ / synchronizing literals in commands. Anything else: BAD. It never writes: APPEND,
STORE, COPY, CREATE ... get NO; unless the scenario says "writable": true, when SELECT opens
read-write and UID STORE (FLAGS, +FLAGS, -FLAGS, .SILENT) and UID EXPUNGE change the folders
in memory, for every connection.
"""
import argparse
import base64
import json
import os
import random
import re
import select
import socket
import sys
import threading
import time

CAPABILITIES = ["IMAP4rev1", "LITERAL+", "UIDPLUS", "NAMESPACE", "AUTH=PLAIN"]


def random_message(size, seed):
    """A valid RFC 5322 message of exactly `size` bytes: headers, then CRLF lines of base64 of
    seeded random bytes (76 characters each, the last one shorter)."""
    head = (f"Message-ID: <random-{seed}-{size}@hostile.test>\r\n"
            f"From: Hostile <hostile@fabrikam.test>\r\nTo: someone@fabrikam.test\r\n"
            f"Subject: random {size} bytes, seed {seed}\r\n"
            f"Date: Mon, 01 Jan 2024 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: application/octet-stream\r\n"
            f"Content-Transfer-Encoding: base64\r\n\r\n").encode()
    if size < len(head) + 2:
        raise ValueError(f"body_random: size {size} is below the {len(head) + 2} bytes of headers")
    room = size - len(head)
    full, rest = divmod(room, 78)  # 76 characters + CRLF per line
    chars = full * 76 + max(0, rest - 2)
    rng = random.Random(seed)
    text = base64.b64encode(rng.randbytes(chars * 3 // 4 + 3))[:chars]
    lines = [text[i:i + 76] for i in range(0, full * 76, 76)]
    out = head + b"\r\n".join(lines) + (b"\r\n" if lines else b"")
    if rest >= 2:
        out += text[full * 76:] + b"\r\n"
    elif rest == 1:  # one byte left: an extra space before the last CRLF keeps it valid
        out = out[:-2] + b" \r\n" if lines else out + b" "
    assert len(out) == size, (len(out), size)
    return out


class Message:
    def __init__(self, spec, uid, base):
        self.uid = uid
        self.flags = list(spec.get("flags", []))
        self.internaldate = spec.get("internaldate", "01-Jan-2024 00:00:00 +0000")
        self._spec, self._base, self._body = spec, base, None
        self._lock = threading.Lock()

    @property
    def body(self):
        with self._lock:
            if self._body is None:
                s = self._spec
                if "body_b64" in s:
                    self._body = base64.b64decode(s["body_b64"])
                elif "body_file" in s:
                    with open(os.path.join(self._base, s["body_file"]), "rb") as f:
                        self._body = f.read()
                elif "body_random" in s:
                    r = s["body_random"]
                    self._body = random_message(int(r["size"]), r.get("seed", 0))
                elif "body" in s:
                    self._body = s["body"].encode()
                else:
                    self._body = b""
            return self._body


class Folder:
    def __init__(self, spec, base):
        self.name = base64.b64decode(spec["name_b64"]) if "name_b64" in spec else spec["name"].encode()
        self.attributes = list(spec.get("attributes", []))
        self.subscribed = spec.get("subscribed", True)
        self.uidvalidity = int(spec.get("uidvalidity", 1))
        self.messages = []
        uid = 0
        for m in spec.get("messages", []):
            uid = int(m.get("uid", uid + 1))
            self.messages.append(Message(m, uid, base))
        self.messages.sort(key=lambda m: m.uid)
        highest = self.messages[-1].uid if self.messages else 0
        self.uidnext = int(spec.get("uidnext", highest + 1))

    def is_inbox(self):
        return self.name.upper() == b"INBOX"


class Account:
    def __init__(self, spec, top, base):
        folders = spec.get("folders", top.get("folders", []))
        self.folders = [Folder(f, base) for f in folders]
        if not any(f.is_inbox() for f in self.folders):
            self.folders.insert(0, Folder({"name": "INBOX"}, base))
        self.faults = spec.get("faults", top.get("faults", {}))
        self.password = spec.get("password", top.get("password"))

    def find(self, name):
        for f in self.folders:
            if f.name == name or (f.is_inbox() and name.upper() == b"INBOX"):
                return f
        return None


class Scenario:
    def __init__(self, path):
        with open(path) as f:
            self.spec = json.load(f)
        base = os.path.dirname(os.path.abspath(path))
        self.default = Account(self.spec, self.spec, base)
        self.users = {u: Account(s, self.spec, base) for u, s in self.spec.get("users", {}).items()}
        self.separator = self.spec.get("separator", "/").encode()
        self.writable = bool(self.spec.get("writable", False))
        self.lock = threading.Lock()  # the folders, when connections write to them
        self.capabilities = " ".join(self.spec.get("capabilities", CAPABILITIES))

    def account(self, user):
        return self.users.get(user, self.default)


class Log:
    def __init__(self, path):
        self.out = open(path, "a", buffering=1) if path else sys.stderr
        self.lock = threading.Lock()

    def __call__(self, conn, text):
        with self.lock:
            self.out.write(f"#{conn} {text}\n")
            self.out.flush()


class Closed(Exception):
    """The connection is over (client gone, LOGOUT, or a fault that cuts or stalls it)."""


# --- command parsing ----------------------------------------------------------------------

def tokenize(data):
    """Tokens of a command without its CRLF: bytes (atom, quoted string or literal) and lists.
    An atom keeps [...] whole (BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]<0.100>)."""
    pos = 0

    def parse(until):
        nonlocal pos
        out = []
        while pos < len(data):
            c = data[pos:pos + 1]
            if c == b" ":
                pos += 1
            elif c == b")":
                pos += 1
                if until:
                    return out
            elif c == b"(":
                pos += 1
                out.append(parse(True))
            elif c == b'"':
                pos += 1
                s = bytearray()
                while pos < len(data) and data[pos:pos + 1] != b'"':
                    if data[pos:pos + 1] == b"\\":
                        pos += 1
                    s += data[pos:pos + 1]
                    pos += 1
                pos += 1
                out.append(bytes(s))
            elif c == b"{" and re.match(rb"\{(\d+)\+?\}\r\n", data[pos:]):
                m = re.match(rb"\{(\d+)\+?\}\r\n", data[pos:])
                n = int(m.group(1))
                start = pos + m.end()
                out.append(data[start:start + n])
                pos = start + n
            else:
                start, depth = pos, 0
                while pos < len(data):
                    ch = data[pos:pos + 1]
                    if ch == b"[":
                        depth += 1
                    elif ch == b"]":
                        depth -= 1
                    elif depth <= 0 and ch in (b" ", b"(", b")"):
                        break
                    pos += 1
                out.append(data[start:pos])
        return out

    return parse(False)


def quote(name):
    """A mailbox name as an IMAP string: quoted, or a literal for bytes a quoted string cannot
    hold."""
    if any(b >= 0x80 or b in (0, 10, 13) for b in name):
        return b"{%d}\r\n" % len(name) + name
    return b'"' + name.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def parse_set(text, highest):
    """A sequence or UID set ("1:*", "3,5,7", "2:4", "*") -> predicate on numbers."""
    ranges = []
    for part in text.decode().split(","):
        a, _, b = part.partition(":")
        x = highest if a == "*" else int(a)
        y = x if not b else (highest if b == "*" else int(b))
        ranges.append((min(x, y), max(x, y)))
    return lambda n: any(lo <= n <= hi for lo, hi in ranges)


def glob(pattern, separator):
    out = ""
    for ch in pattern.decode("latin-1"):
        if ch == "*":
            out += ".*"
        elif ch == "%":
            out += "[^" + re.escape(separator.decode("latin-1")) + "]*"
        else:
            out += re.escape(ch)
    return re.compile(out + r"\Z", re.S)


def header_fields(body, names):
    end = body.find(b"\r\n\r\n")
    head = body[:end + 2] if end >= 0 else body
    wanted = {n.upper() for n in names}
    out, keep = [], False
    for line in re.split(rb"(?<=\n)", head):
        if not line:
            continue
        if line[:1] in (b" ", b"\t"):
            if keep:
                out.append(line)
            continue
        keep = line.split(b":", 1)[0].strip().upper() in wanted
        if keep:
            out.append(line)
    return b"".join(out) + b"\r\n"


# --- one connection -----------------------------------------------------------------------

class Reply:
    """What one command answers: untagged responses (each a list of (bytes, is_body) segments)
    and the tagged line."""

    def __init__(self, tag, body_fetch=False):
        self.tag, self.body_fetch = tag, body_fetch
        self.untagged, self.tagged = [], b""

    def line(self, data):
        self.untagged.append([(data, False)])

    def done(self, status, text):
        self.tagged = self.tag + b" " + status + b" " + text + b"\r\n"
        return self


class Connection:
    def __init__(self, server, sock, number):
        self.server, self.sock, self.number = server, sock, number
        self.scenario, self.log = server.scenario, server.log
        self.buffer = b""
        self.account = None
        self.selected = None
        self.body_bytes = 0
        self.acked = set()  # buffer offsets of synchronizing literals already answered "+"
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # -- faults
    def faults(self):
        f = (self.account or self.scenario.default).faults
        conns = f.get("fault_connections")
        if conns is not None and self.number not in conns:
            return {}
        folders = f.get("fault_folders")
        if folders is not None and (self.selected is None or
                                    self.selected.name not in [n.encode() for n in folders]):
            return {}
        return f

    # -- output
    def send(self, data, split=0):
        try:
            if split > 0:
                pause = float(self.faults().get("split_sleep", 0.001))
                for i in range(0, len(data), split):
                    self.sock.sendall(data[i:i + split])
                    time.sleep(pause)
            else:
                self.sock.sendall(data)
        except OSError as e:
            raise Closed(str(e))

    def emit(self, segments, split=0):
        """Sends (bytes, is_body) segments, counting body literal bytes against the stall and
        close faults. A segment of None closes the connection there (literal_lie < 0)."""
        f = self.faults()
        limits = [(int(f[k]), k) for k in ("stall_after_bytes", "close_after_bytes") if k in f]
        for data, is_body in segments:
            if data is None:
                self.log(self.number, "S: fault literal_lie: closing inside a literal")
                self.close()
                raise Closed("literal_lie")
            if is_body and limits:
                limit, kind = min(limits)
                room = limit - self.body_bytes
                if len(data) >= room:
                    self.send(data[:room], split)
                    self.body_bytes += room
                    self.cut(kind)
                self.body_bytes += len(data)
            self.send(data, split)

    def cut(self, kind):
        self.log(self.number, f"S: fault {kind} after {self.body_bytes} body bytes")
        if kind == "close_after_bytes":
            self.close()
            raise Closed(kind)
        # stall: nothing more is sent; read until the client gives up.
        try:
            while self.sock.recv(65536):
                pass
        except OSError:
            pass
        raise Closed(kind)

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def write_replies(self, replies):
        f = self.faults()
        body = [i for i, r in enumerate(replies) if r.body_fetch]
        order = list(range(len(replies)))
        if f.get("reorder") == "reverse" and len(body) > 1:
            for pos, i in zip(body, reversed(body)):
                order[pos] = i
        split_all = int(f.get("split_literals", 0)) if f.get("split_all") else 0
        if f.get("interleave") and len(body) > 1:
            bodies = [replies[i] for i in order if replies[i].body_fetch]
            first = True
            for i in order:
                r = replies[i]
                if not r.body_fetch:
                    self.write_reply(r, split_all)
                elif first:
                    first = False
                    split = int(f.get("split_literals", 0))
                    queues = [list(b.untagged) for b in bodies]
                    while any(queues):
                        for q in queues:
                            if q:
                                self.emit(q.pop(0), split)
                    for b in bodies:
                        self.emit([(b.tagged, False)], split)
            return
        for i in order:
            r = replies[i]
            self.write_reply(r, int(f.get("split_literals", 0)) if r.body_fetch else split_all)

    def write_reply(self, r, split):
        for segments in r.untagged:
            self.emit(segments, split)
        self.emit([(r.tagged, False)], split)

    # -- input
    def fill(self, timeout=None):
        if timeout is not None:
            ready, _, _ = select.select([self.sock], [], [], timeout)
            if not ready:
                return False
        try:
            data = self.sock.recv(1 << 20)
        except OSError as e:
            raise Closed(str(e))
        if not data:
            raise Closed("client closed")
        self.buffer += data
        return True

    def take_command(self):
        """One complete command from the buffer (bytes without CRLF), or None. Answers "+" to
        synchronizing literals as their markers arrive."""
        pos = 0
        while True:
            eol = self.buffer.find(b"\r\n", pos)
            if eol < 0:
                return None
            m = re.search(rb"\{(\d+)(\+?)\}\Z", self.buffer[pos:eol])
            if not m:
                command = self.buffer[:eol]
                self.buffer = self.buffer[eol + 2:]
                self.acked = set()
                return command
            if not m.group(2) and eol not in self.acked:
                self.acked.add(eol)
                self.send(b"+ Ready for literal data\r\n")
            end = eol + 2 + int(m.group(1))
            if len(self.buffer) < end:
                return None
            pos = end

    def read_line(self):
        while b"\r\n" not in self.buffer:
            self.fill()
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line

    def serve(self):
        split = int(self.scenario.default.faults.get("split_literals", 0)) \
            if self.scenario.default.faults.get("split_all") else 0
        self.send(b"* OK [CAPABILITY " + self.scenario.capabilities.encode() +
                  b"] hostile_imap ready\r\n", split)
        while True:
            command = self.take_command()
            while command is None:
                self.fill()
                command = self.take_command()
            commands = [command]
            f = self.faults()
            if f.get("reorder") or f.get("interleave") or f.get("expunge_first"):
                # Everything the client has pipelined: what is in the buffer and what comes
                # within gather_ms.
                while self.fill(float(f.get("gather_ms", 50)) / 1000):
                    pass
            while True:
                more = self.take_command()
                if more is None:
                    break
                commands.append(more)
            order = list(range(len(commands)))
            if f.get("expunge_first"):
                first = [i for i, c in enumerate(commands) if is_uid_expunge(c)]
                order = first + [i for i in order if i not in first]
            replies = [None] * len(commands)
            for i in order:
                self.log(self.number, "C: " + shorten(commands[i]))
                replies[i] = self.execute(commands[i], [r for r in replies if r is not None])
            self.write_replies([r for r in replies if r is not None])

    # -- commands
    def execute(self, data, replies):
        tokens = tokenize(data)
        if len(tokens) < 2 or not isinstance(tokens[0], bytes) or not isinstance(tokens[1], bytes):
            r = Reply(tokens[0] if tokens and isinstance(tokens[0], bytes) else b"*")
            return r.done(b"BAD", b"Unparseable command")
        tag, name, args = tokens[0], tokens[1].upper(), tokens[2:]
        if name == b"UID" and args and isinstance(args[0], bytes):
            name, args = b"UID " + args[0].upper(), args[1:]
        handler = getattr(self, "cmd_" + name.decode("latin-1").replace(" ", "_").replace(".", "_"), None)
        r = Reply(tag)
        if handler is None:
            return r.done(b"BAD", b"Unknown command " + name)
        needs_auth = name not in (b"CAPABILITY", b"LOGIN", b"AUTHENTICATE", b"NOOP", b"LOGOUT")
        if needs_auth and self.account is None:
            return r.done(b"NO", b"Log in first")
        try:
            return handler(r, args, replies)
        except (IndexError, ValueError, TypeError) as e:
            return r.done(b"BAD", b"Bad arguments: " + str(e).encode())

    def cmd_CAPABILITY(self, r, args, replies):
        r.line(b"* CAPABILITY " + self.scenario.capabilities.encode() + b"\r\n")
        return r.done(b"OK", b"CAPABILITY completed")

    def cmd_NOOP(self, r, args, replies):
        return r.done(b"OK", b"NOOP completed")

    cmd_CHECK = cmd_NOOP

    def cmd_LOGOUT(self, r, args, replies):
        r.line(b"* BYE Logging out\r\n")
        r.done(b"OK", b"LOGOUT completed")
        self.write_replies(replies + [r])
        self.close()
        raise Closed("logout")

    def login(self, r, user, secret):
        account = self.scenario.account(user)
        if account.password is not None and secret != account.password.encode():
            return r.done(b"NO", b"[AUTHENTICATIONFAILED] Authentication failed.")
        self.account = account
        self.log(self.number, f"S: logged in as {user!r}")
        return r.done(b"OK", b"[CAPABILITY " + self.scenario.capabilities.encode() + b"] Logged in")

    def cmd_LOGIN(self, r, args, replies):
        user = args[0].decode("utf-8", "replace").split("*", 1)[0]
        return self.login(r, user, args[1])

    def cmd_AUTHENTICATE(self, r, args, replies):
        if args[0].upper() != b"PLAIN":
            return r.done(b"NO", b"Only PLAIN")
        if len(args) > 1:
            payload = args[1]
        else:
            self.write_replies(replies)
            replies.clear()
            self.send(b"+ \r\n")
            payload = self.read_line()
            if payload == b"*":
                return r.done(b"BAD", b"Authentication cancelled")
        try:
            authzid, authcid, secret = base64.b64decode(payload).split(b"\0")
        except ValueError:
            return r.done(b"BAD", b"Bad PLAIN payload")
        user = (authzid or authcid.split(b"*", 1)[0]).decode("utf-8", "replace")
        return self.login(r, user, secret)

    def cmd_NAMESPACE(self, r, args, replies):
        r.line(b'* NAMESPACE (("" ' + quote(self.scenario.separator) + b")) NIL NIL\r\n")
        return r.done(b"OK", b"NAMESPACE completed")

    def cmd_LIST(self, r, args, replies, verb=b"LIST"):
        reference, pattern = args[0], args[1]
        sep = self.scenario.separator
        if len(args) > 2:
            return r.done(b"BAD", b"LIST-EXTENDED is not offered")
        if pattern == b"" and verb == b"LIST":
            r.line(b"* LIST (\\Noselect) " + quote(sep) + b' ""\r\n')
            return r.done(b"OK", b"LIST completed")
        match = glob(reference + pattern, sep)
        for f in self.account.folders:
            if verb == b"LSUB" and not f.subscribed:
                continue
            if match.match(f.name.decode("latin-1")) or (f.is_inbox() and match.match("INBOX")):
                attrs = b" ".join(a.encode() for a in f.attributes)
                r.line(b"* " + verb + b" (" + attrs + b") " + quote(sep) + b" " + quote(f.name) + b"\r\n")
        return r.done(b"OK", verb + b" completed")

    def cmd_LSUB(self, r, args, replies):
        return self.cmd_LIST(r, args, replies, b"LSUB")

    def cmd_STATUS(self, r, args, replies):
        f = self.account.find(args[0])
        if f is None:
            return r.done(b"NO", b"[NONEXISTENT] Mailbox doesn't exist")
        items = args[1] if isinstance(args[1], list) else [args[1]]
        values = {b"UIDVALIDITY": f.uidvalidity, b"UIDNEXT": f.uidnext,
                  b"MESSAGES": len(f.messages), b"RECENT": 0,
                  b"UNSEEN": sum(1 for m in f.messages if "\\Seen" not in m.flags)}
        out = []
        for item in items:
            item = item.upper()
            if item == b"SIZE":
                out.append(b"SIZE %d" % sum(len(m.body) for m in f.messages))
            elif item in values:
                out.append(item + b" %d" % values[item])
            else:
                return r.done(b"BAD", b"Unknown STATUS item " + item)
        r.line(b"* STATUS " + quote(f.name) + b" (" + b" ".join(out) + b")\r\n")
        return r.done(b"OK", b"STATUS completed")

    def cmd_EXAMINE(self, r, args, replies, verb=b"EXAMINE"):
        f = self.account.find(args[0])
        self.selected = None
        if f is None:
            return r.done(b"NO", b"[NONEXISTENT] Mailbox doesn't exist: " + args[0].hex().encode())
        self.selected = f
        writable = verb == b"SELECT" and self.scenario.writable
        r.line(b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n")
        if writable:
            r.line(b"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Ok\r\n")
        else:
            r.line(b"* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n")
        r.line(b"* %d EXISTS\r\n" % len(f.messages))
        r.line(b"* 0 RECENT\r\n")
        r.line(b"* OK [UIDVALIDITY %d] UIDs valid\r\n" % f.uidvalidity)
        r.line(b"* OK [UIDNEXT %d] Predicted next UID\r\n" % f.uidnext)
        return r.done(b"OK", (b"[READ-WRITE] " if writable else b"[READ-ONLY] ") + verb +
                      b" completed")

    def cmd_SELECT(self, r, args, replies):
        return self.cmd_EXAMINE(r, args, replies, b"SELECT")

    def cmd_CLOSE(self, r, args, replies):
        if self.selected is None:
            return r.done(b"BAD", b"No mailbox selected")
        self.selected = None
        return r.done(b"OK", b"CLOSE completed")

    cmd_UNSELECT = cmd_CLOSE

    def cmd_UID_FETCH(self, r, args, replies, by_uid=True):
        f = self.selected
        if f is None:
            return r.done(b"BAD", b"No mailbox selected")
        items = args[1] if isinstance(args[1], list) else [args[1]]
        items = [i for i in items if isinstance(i, bytes)]
        if len(items) == 1 and items[0].upper() in (b"ALL", b"FAST", b"FULL"):
            items = [b"FLAGS", b"INTERNALDATE", b"RFC822.SIZE"]
        upper = [i.upper() for i in items]
        if by_uid and b"UID" not in upper:
            items, upper = [b"UID"] + items, [b"UID"] + upper
        body_fetch = any(re.match(rb"(BODY(\.PEEK)?\[\]|RFC822$)", u) for u in upper)
        r.body_fetch = body_fetch
        faults = self.faults()
        honest = not body_fetch and not faults.get("apply_to_listing")
        highest = (f.messages[-1].uid if by_uid else len(f.messages)) if f.messages else 0
        wanted = parse_set(args[0], highest)
        chosen = [(seq, m) for seq, m in enumerate(f.messages, 1) if wanted(m.uid if by_uid else seq)]
        if not honest and faults.get("ok_only"):
            return r.done(b"OK", b"FETCH completed")
        omit = set(faults.get("omit_uids", [])) if not honest else set()
        answers = []
        for seq, m in chosen:
            if m.uid in omit:
                continue
            answers.append((seq, m, m.uid))
            if body_fetch and m.uid == faults.get("duplicate_uid"):
                answers.append((seq, m, m.uid))
        if body_fetch:
            wrong = {int(k): int(v) for k, v in faults.get("wrong_uid", {}).items()}
            answers = [(seq, m, wrong.get(uid, uid)) for seq, m, uid in answers]
            extra = faults.get("extra_uid")
            if extra is not None and not any(m.uid == extra for _, m in chosen):
                found = [(s, m) for s, m in enumerate(f.messages, 1) if m.uid == extra]
                junk = Message({"body": "X" * 98 + "\r\n"}, int(extra), "")
                seq, m = found[0] if found else (len(f.messages) + 1, junk)
                answers.append((seq, m, int(extra)))
        for seq, m, uid in answers:
            r.untagged.append(self.fetch_response(seq, m, uid, items, faults if body_fetch else {},
                                                  faults if not body_fetch else {}))
        return r.done(b"OK", b"FETCH completed")

    def cmd_FETCH(self, r, args, replies):
        return self.cmd_UID_FETCH(r, args, replies, by_uid=False)

    def fetch_response(self, seq, m, uid, items, body_faults, listing_faults):
        segments = [b"* %d FETCH (" % seq]
        literal_lie = {int(k): int(v) for k, v in body_faults.get("literal_lie", {}).items()}
        size_lie = {int(k): int(v) for k, v in self.faults().get("size_lie", {}).items()}
        parts = []
        for item, u in zip(items, [i.upper() for i in items]):
            if u == b"UID":
                parts.append([b"UID %d" % uid])
            elif u == b"FLAGS":
                parts.append([b"FLAGS (" + " ".join(m.flags).encode() + b")"])
            elif u == b"RFC822.SIZE":
                parts.append([b"RFC822.SIZE %d" % (len(m.body) + size_lie.get(m.uid, 0))])
            elif u == b"INTERNALDATE":
                parts.append([b'INTERNALDATE "' + m.internaldate.encode() + b'"'])
            else:
                got = re.match(rb"(BODY(?:\.PEEK)?\[([^\]]*)\](?:<(\d+)\.(\d+)>)?|RFC822(\.HEADER|\.TEXT)?)\Z", u)
                if not got:
                    raise ValueError("unknown FETCH item " + u.decode("latin-1"))
                body = m.body
                end = body.find(b"\r\n\r\n")
                section = got.group(2)
                name = u.replace(b".PEEK", b"")
                if u.startswith(b"RFC822"):
                    section = {b"RFC822": b"", b"RFC822.HEADER": b"HEADER", b"RFC822.TEXT": b"TEXT"}[u]
                elif got.group(3) is not None:
                    name = name[:name.index(b"<")]
                if section == b"":
                    data = body
                elif section == b"HEADER":
                    data = body[:end + 4] if end >= 0 else body
                elif section == b"TEXT":
                    data = body[end + 4:] if end >= 0 else b""
                elif section.startswith(b"HEADER.FIELDS"):
                    inner = re.search(rb"\((.*)\)", item).group(1)
                    data = header_fields(body, inner.split())
                    name = b"BODY[" + item[item.index(b"[") + 1:item.index(b"]")] + b"]"
                else:
                    raise ValueError("unsupported section " + section.decode("latin-1"))
                if got.group(3) is not None:
                    origin, length = int(got.group(3)), int(got.group(4))
                    data = data[origin:origin + length]
                    lie = body_faults.get("partial_origin_lie")
                    shown = origin + (1 if lie is True else int(lie or 0))
                    name += b"<%d>" % shown
                is_body = section == b""
                lie = literal_lie.get(m.uid, 0) if is_body else 0
                if lie < 0:
                    parts.append([name + b" {%d}\r\n" % len(data), ("body", data[:max(0, len(data) + lie)]),
                                  ("cut", None)])
                elif lie > 0:
                    parts.append([name + b" {%d}\r\n" % len(data), ("body", data + b"Z" * lie)])
                else:
                    parts.append([name + b" {%d}\r\n" % len(data), ("body" if is_body else "meta", data)])
        out = [(segments[0], False)]
        for k, p in enumerate(parts):
            if k:
                out.append((b" ", False))
            for piece in p:
                if isinstance(piece, tuple):
                    out.append((piece[1], piece[0] == "body"))
                else:
                    out.append((piece, False))
        out.append((b")\r\n", False))
        return out

    def refuse(self, r, args, replies):
        return r.done(b"NO", b"[CANNOT] This server is read-only")

    def writable_folder(self, r, args, replies):
        """The selected folder a write goes to, or the reply refusing it."""
        if not self.scenario.writable:
            return None, self.refuse(r, args, replies)
        if self.selected is None:
            return None, r.done(b"BAD", b"No mailbox selected")
        return self.selected, None

    def cmd_UID_STORE(self, r, args, replies):
        f, refused = self.writable_folder(r, args, replies)
        if refused:
            return refused
        item = args[1].upper()
        flags = args[2] if isinstance(args[2], list) else [args[2]]
        flags = [x.decode() for x in flags if isinstance(x, bytes)]
        with self.scenario.lock:
            wanted = parse_set(args[0], f.messages[-1].uid if f.messages else 0)
            for seq, m in enumerate(f.messages, 1):
                if not wanted(m.uid):
                    continue
                if item.startswith(b"+"):
                    m.flags += [x for x in flags if x not in m.flags]
                elif item.startswith(b"-"):
                    m.flags = [x for x in m.flags if x not in flags]
                else:
                    m.flags = list(flags)
                if not item.endswith(b".SILENT"):
                    r.line(b"* %d FETCH (UID %d FLAGS (%s))\r\n" %
                           (seq, m.uid, " ".join(m.flags).encode()))
            self.log_state(f)
        return r.done(b"OK", b"STORE completed")

    def log_state(self, f):
        """What a writable folder holds now, for a test's oracle: "S: state NAME: UIDS | deleted:
        UIDS" (flagged \\Deleted)."""
        held = " ".join(str(m.uid) for m in f.messages)
        deleted = " ".join(str(m.uid) for m in f.messages if "\\Deleted" in m.flags)
        self.log(self.number, f"S: state {f.name.decode('latin-1')}: {held} | deleted: {deleted}")

    def cmd_UID_EXPUNGE(self, r, args, replies):
        f, refused = self.writable_folder(r, args, replies)
        if refused:
            return refused
        if self.faults().get("expunge_ignored"):
            self.log(self.number, "S: fault expunge_ignored")
            return r.done(b"OK", b"EXPUNGE completed")
        with self.scenario.lock:
            wanted = parse_set(args[0], f.messages[-1].uid if f.messages else 0)
            seq = 1
            for m in list(f.messages):
                if wanted(m.uid) and "\\Deleted" in m.flags:
                    f.messages.remove(m)
                    r.line(b"* %d EXPUNGE\r\n" % seq)
                else:
                    seq += 1
            self.log_state(f)
        return r.done(b"OK", b"EXPUNGE completed")

    cmd_APPEND = cmd_STORE = cmd_COPY = cmd_UID_COPY = cmd_CREATE = refuse
    cmd_DELETE = cmd_RENAME = cmd_SUBSCRIBE = cmd_UNSUBSCRIBE = cmd_EXPUNGE = refuse
    cmd_MOVE = cmd_UID_MOVE = refuse


def is_uid_expunge(command):
    words = command.split(None, 3)
    return len(words) >= 3 and words[1].upper() == b"UID" and words[2].upper() == b"EXPUNGE"


def shorten(command):
    out, pos = [], 0
    for m in re.finditer(rb"\{(\d+)\+?\}\r\n", command):
        out.append(command[pos:m.end()].decode("latin-1"))
        n = int(m.group(1))
        lit = command[m.end():m.end() + n]
        out.append(lit.decode("latin-1") if n <= 200 else f"<{n} bytes>")
        pos = m.end() + n
    out.append(command[pos:].decode("latin-1"))
    return "".join(out).replace("\r\n", "\\r\\n")


class Server:
    def __init__(self, scenario, log):
        self.scenario, self.log = scenario, log
        self.count = 0
        self.lock = threading.Lock()

    def handle(self, sock, number):
        conn = Connection(self, sock, number)
        try:
            conn.serve()
        except Closed as e:
            self.log(number, f"S: closed ({e})")
        except Exception as e:  # a bug of ours: said, and the connection goes
            self.log(number, f"S: internal error {e!r}")
        finally:
            try:
                sock.close()
            except OSError:
                pass


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--log")
    p.add_argument("--background", action="store_true")
    p.add_argument("--pid-file")
    p.add_argument("--port", type=int, default=0,
                   help="listen on this port (default: any free one), e.g. the port a journal "
                        "snapshotted for a mailbox, so that another scenario can follow")
    a = p.parse_args()
    if a.background and not a.pid_file:
        p.error("--background needs --pid-file")
    scenario = Scenario(a.scenario)
    log = Log(a.log)
    server = Server(scenario, log)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", a.port))
    listener.listen(64)
    if a.background:
        child = os.fork()
        if child:
            for _ in range(500):
                if os.path.exists(a.port_file):
                    os._exit(0)
                time.sleep(0.01)
            os._exit(1)
        os.setsid()
        tmp = a.pid_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(os.getpid()))
        os.replace(tmp, a.pid_file)
        if not a.log:
            log.out = open(os.devnull, "w")
    elif a.pid_file:
        with open(a.pid_file, "w") as f:
            f.write(str(os.getpid()))
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(listener.getsockname()[1]))
    os.replace(tmp, a.port_file)
    log(0, f"S: listening on 127.0.0.1:{listener.getsockname()[1]}")
    while True:
        sock, _ = listener.accept()
        with server.lock:
            server.count += 1
            number = server.count
        threading.Thread(target=server.handle, args=(sock, number), daemon=True).start()


if __name__ == "__main__":
    main()
