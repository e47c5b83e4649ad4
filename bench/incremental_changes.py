#!/usr/bin/env python3
"""bench/incremental.sh's user: changes one mailbox over IMAP (Python's imaplib) the way the
issue measured, scaled to the mailbox (per 5,000 messages: 200 new, 500 flag changes, 100
expunged, 50 moved between folders, one folder renamed), and writes what it did as JSON so that
each tool's target can be checked for what it carried over.

    incremental_changes.py HOST:PORT SECRET_FILE USER MESSAGES SEED OUT.json
"""
import email.utils
import imaplib
import json
import random
import re
import sys
import time

host, port = sys.argv[1].rsplit(":", 1)
secret, user, total, seed, out = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
scale = total / 5000
rng = random.Random(seed)
m = imaplib.IMAP4(host, int(port))
m.login(f"{user}*migrator", open(secret).read().strip())


def q(name):
    return '"%s"' % name


def messages(folder):
    m.select(q(folder))
    typ, data = m.uid("fetch", "1:*", "(UID FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    found = []
    for part in data:
        if isinstance(part, tuple):
            uid = re.search(rb"UID (\d+)", part[0]).group(1).decode()
            flags = re.search(rb"FLAGS \(([^)]*)\)", part[0]).group(1).decode().split()
            mid = part[1].decode(errors="replace").split(":", 1)[-1].strip()
            found.append((uid, flags, mid))
    return found


folders = ["INBOX", "Sent", "Archive/2023"]
renamed_from, renamed_to = "Projects/Alpha", "Projects/Renamed"
done = {"new": [], "flags": {}, "expunged": [], "moved": {}, "renamed": [renamed_from, renamed_to]}
pool = {f: messages(f) for f in folders}
candidates = [(f, uid, flags, mid) for f in folders for (uid, flags, mid) in pool[f]]
rng.shuffle(candidates)
n_flags, n_expunge, n_move = int(500 * scale), int(100 * scale), int(50 * scale)
flagged = candidates[:n_flags]
expunged = candidates[n_flags:n_flags + n_expunge]
moved = [c for c in candidates[n_flags + n_expunge:] if c[0] == "INBOX"][:n_move]
for folder, uid, flags, mid in flagged:
    m.select(q(folder))
    new = set(f for f in flags if f != "\\Recent")
    new ^= {rng.choice(["\\Seen", "\\Flagged", "$Label1"])}
    m.uid("store", uid, "FLAGS", "(%s)" % " ".join(sorted(new)))
    done["flags"][mid] = sorted(new)
for folder, uid, flags, mid in expunged:
    m.select(q(folder))
    m.uid("store", uid, "+FLAGS", "(\\Deleted)")
    m.uid("expunge", uid)
    done["expunged"].append(mid)
for folder, uid, flags, mid in moved:
    m.select(q(folder))
    m.uid("move", uid, q("Archive/2023"))
    done["moved"][mid] = "Archive/2023"
if m.state == "SELECTED":
    m.unselect()
for k in range(int(200 * scale)):
    mid = f"<incremental-{seed}-{k}@bench.test>"
    body = (f"Message-ID: {mid}\r\nFrom: bench@bench.test\r\nSubject: new {k}\r\n"
            f"Date: {email.utils.formatdate()}\r\n\r\n" + "new mail\r\n" * 40).encode()
    m.append("INBOX", "()", imaplib.Time2Internaldate(time.time()), body)
    done["new"].append(mid)
typ, data = m.rename(q(renamed_from), q(renamed_to))
assert typ == "OK", data
m.logout()
json.dump(done, open(out, "w"))
