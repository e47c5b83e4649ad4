#!/usr/bin/env python3
"""Compares, user by user, the source Maildir trees with what a real Dovecot serves over IMAP
from the tree crossmove wrote: content (SHA-256), flags and keywords, INTERNALDATE, folders.

    compare_over_imap.py ORG_DIR PORT USER...   (exit 1 on any difference)
"""
import sys
import imaplib, os, hashlib, re, collections, time
def source_view(root):
    out = collections.Counter()
    for d, _, files in os.walk(root):
        if os.path.basename(d) not in ("cur", "new"): continue
        fd = os.path.dirname(d)
        folder = "INBOX" if fd == root else os.path.basename(fd)[1:]
        kw = {}
        p = os.path.join(fd, "dovecot-keywords")
        if os.path.exists(p):
            for line in open(p):
                i, name = line.rstrip("\n").split(" ", 1); kw[chr(97+int(i))] = name
        for f in files:
            data = open(os.path.join(d, f), "rb").read()
            info = f.split(":2,")[1] if ":2," in f else ""
            flags = sorted({"S":"\\Seen","F":"\\Flagged","R":"\\Answered","T":"\\Deleted","D":"\\Draft"}[c] for c in info if c.isupper())
            kws = sorted(kw[c] for c in info if c.islower())
            out[(folder, hashlib.sha256(data).hexdigest(), int(os.stat(os.path.join(d,f)).st_mtime), tuple(sorted(flags + kws)))] += 1
    return out
def imap_view(user):
    m = imaplib.IMAP4("127.0.0.1", PORT); m.login(user, "pw")
    out = collections.Counter(); folders = []
    for line in m.list()[1]:
        name = line.decode().split(' "/" ')[-1].strip('"')
        folders.append(name)
        if "\\Noselect" in line.decode(): continue
        typ, data = m.select('"%s"' % name, readonly=True)
        if int(data[0]) == 0: continue
        typ, msgs = m.fetch("1:*", "(FLAGS INTERNALDATE BODY.PEEK[])")
        for i in range(0, len(msgs), 2):
            meta, body = msgs[i]
            meta = meta.decode()
            flags = sorted(f for f in re.search(r"FLAGS \(([^)]*)\)", meta).group(1).split() if f != "\\Recent")
            ts = int(time.mktime(imaplib.Internaldate2tuple(meta.encode())))
            folder = "INBOX" if name == "INBOX" else name.replace("/", ".")
            out[(folder, hashlib.sha256(body).hexdigest(), ts, tuple(flags))] += 1
    subs = [l.decode().split(' "/" ')[-1].strip('"') for l in m.lsub()[1]]
    m.logout()
    return out, folders, subs
ORG, PORT, USERS = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
mapping = {"Sent Items": "Sent", "Deleted Items": "Trash"}
failed = False
for user in USERS:
    src = source_view(f"{ORG}/source-mail/fabrikam.test/{user}")
    src = collections.Counter({(mapping.get(k[0], k[0]),) + k[1:]: v for k, v in src.items()})
    got, folders, subs = imap_view(f"{user}@contoso.test")
    ok = got == src and sum(got.values()) > 0
    print(f"{user}: {sum(got.values())} messages over IMAP, {sum(src.values())} in the source: {'identical' if ok else 'DIFFERENT'}")
    if "Sent" not in folders or "Projets/&AMk-t&AOk- 2024" not in folders or "Projets/&AMk-t&AOk- 2024" not in subs:
        print("   folders:", folders, "subscribed:", subs)
        ok = False
    if not ok:
        print("   only over IMAP:", list((got - src).items())[:2])
        print("   only in the source:", list((src - got).items())[:2])
        failed = True
sys.exit(1 if failed else 0)
