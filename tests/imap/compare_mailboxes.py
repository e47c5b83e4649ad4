#!/usr/bin/env python3
"""Compares two IMAP mailboxes as an administrator would after a move, reading both servers:
every message once per folder, byte for byte (SHA-256 of BODY.PEEK[]), with the same flags,
keywords and INTERNALDATE; the same folders and subscriptions. Independent of crossmove's code.

    compare_mailboxes.py SRC_HOST:PORT SRC_USER DST_HOST:PORT DST_USER --secret-file F
        [--admin migrator] [--map "Sent Items=Sent"]... [--strip-header X-TUID]

Logs in as USER*ADMIN (Dovecot's master user form). Source folder names are renamed by --map
(a folder and its children) before comparing. Target folders that are empty and absent from the
source are ignored (a server's auto-created special folders). Exit 0 when identical, 1 otherwise.
"""
import argparse
import collections
import hashlib
import imaplib
import re
import sys

from imap_oracle import date_of, flags_of, messages, mutf7_decode, parse_list, quoted, selectable


def view(hostport, user, admin, secret, strip):
    host, port = hostport.rsplit(":", 1)
    m = imaplib.IMAP4(host, int(port))
    m.login(f"{user}*{admin}", secret)
    mail = collections.Counter()
    counts = {}
    for name in selectable(m):
        typ, data = m.select(quoted(name), readonly=True)
        if typ != "OK":
            raise SystemExit(f"{hostport} {user}: cannot select {name}")
        folder = mutf7_decode(name)
        counts[folder] = int(data[0])
        if counts[folder] == 0:
            continue
        for meta, body in messages(m):
            if strip:
                body = re.sub(rb"(?mi)^" + re.escape(strip.encode()) + rb": [^\r\n]*\r\n", b"", body)
            flags = tuple(sorted(flags_of(meta)))
            mail[(folder, hashlib.sha256(body).hexdigest(), date_of(meta), flags)] += 1
    subscribed = set()
    for line in m.lsub()[1]:
        if line:
            subscribed.add(mutf7_decode(parse_list(line)[1]))
    m.logout()
    return mail, counts, subscribed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("src_user")
    ap.add_argument("dst")
    ap.add_argument("dst_user")
    ap.add_argument("--secret-file", required=True)
    ap.add_argument("--admin", default="migrator")
    ap.add_argument("--map", action="append", default=[])
    ap.add_argument("--strip-header", default="")
    a = ap.parse_args()
    secret = open(a.secret_file).read().strip()
    renames = dict(x.split("=", 1) for x in a.map)

    def rename(folder):
        top = folder.split("/")[0]
        return renames[top] + folder[len(top):] if top in renames else folder

    src, src_counts, src_subs = view(a.src, a.src_user, a.admin, secret, "")
    dst, dst_counts, dst_subs = view(a.dst, a.dst_user, a.admin, secret, a.strip_header)
    src = collections.Counter({(rename(k[0]),) + k[1:]: v for k, v in src.items()})
    src_folders = {rename(f) for f in src_counts}
    src_subs = {rename(f) for f in src_subs}
    problems = []
    for k, v in (src - dst).items():
        problems.append(f"missing or different in the target x{v}: {k}")
    for k, v in (dst - src).items():
        problems.append(f"only in the target x{v}: {k}")
    for f in sorted(src_folders - set(dst_counts)):
        problems.append(f"folder missing in the target: {f}")
    for f in sorted(set(dst_counts) - src_folders):
        if dst_counts[f]:
            problems.append(f"folder only in the target, with {dst_counts[f]} messages: {f}")
    for f in sorted(src_subs - dst_subs):
        problems.append(f"subscription missing in the target: {f}")
    total = sum(src.values())
    if problems:
        print(f"{a.src_user} -> {a.dst_user}: {len(problems)} differences in {total} messages")
        for p in problems[:20]:
            print("  " + p)
        return 1
    print(f"{a.src_user} -> {a.dst_user}: {total} messages in {len(src_folders)} folders identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
