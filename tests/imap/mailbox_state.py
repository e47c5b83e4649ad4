#!/usr/bin/env python3
"""A mailbox's whole state as a user would see it, one sorted line each, independent of
crossmove's code: every selectable folder, and every message with its bytes, flags, keywords and
INTERNALDATE.

    F|FOLDER
    M|FOLDER|SHA256|INTERNALDATE|FLAG LETTERS|KEYWORDS

FOLDER is the decoded name with '/' between levels ("INBOX", "Work/Reports"); flags are Maildir
letters D F R S T, keywords sorted and space-separated. A message held twice is two lines.

    mailbox_state.py maildir PATH
    mailbox_state.py imap HOST:PORT SECRET_FILE USER   (logs in as USER*migrator)

With --message-ids, a message's Message-ID stands in for its SHA256 (for tools that add a
header to every message they copy, as mbsync does).
"""
import hashlib
import imaplib
import os
import re
import sys

from imap_oracle import date_of, flags_of, messages, mutf7_decode, quoted, selectable

LETTERS = {"\\Draft": "D", "\\Flagged": "F", "\\Answered": "R", "\\Seen": "S", "\\Deleted": "T"}


BY_MESSAGE_ID = False


def message_line(folder, body, date, flags):
    letters = "".join(sorted(LETTERS[f] for f in flags if f in LETTERS))
    keywords = " ".join(sorted(f for f in flags if not f.startswith("\\")))
    if BY_MESSAGE_ID:
        got = re.search(rb"^message-id:\s*(\S+)", body, re.I | re.M)
        what = got.group(1).decode(errors="replace") if got else "-"
    else:
        what = hashlib.sha256(body).hexdigest()
    return f"M|{folder}|{what}|{date}|{letters}|{keywords}"


def maildir(root):
    lines = []
    dirs = [("INBOX", root)]
    for entry in sorted(os.listdir(root)):
        path = os.path.join(root, entry)
        if entry.startswith(".") and len(entry) > 1 and os.path.isdir(os.path.join(path, "cur")):
            dirs.append(("/".join(mutf7_decode(p) for p in entry[1:].split(".")), path))
    for folder, path in dirs:
        lines.append(f"F|{folder}")
        table = {}
        kwfile = os.path.join(path, "dovecot-keywords")
        if os.path.exists(kwfile):
            for line in open(kwfile):
                index, _, word = line.rstrip("\n").partition(" ")
                table[chr(ord("a") + int(index))] = word
        for sub in ("new", "cur"):
            subdir = os.path.join(path, sub)
            if not os.path.isdir(subdir):
                continue
            for name in os.listdir(subdir):
                if name.startswith("."):
                    continue
                file = os.path.join(subdir, name)
                info = name.split(":2,", 1)[1] if ":2," in name else ""
                flags = [f for f, letter in LETTERS.items() if letter in info]
                flags += [table[c] for c in info if c.islower() and c in table]
                with open(file, "rb") as f:
                    body = f.read()
                lines.append(message_line(folder, body, int(os.stat(file).st_mtime), flags))
    return lines


def imap(address, secret_file, user):
    host, port = address.rsplit(":", 1)
    m = imaplib.IMAP4(host, int(port))
    m.login(f"{user}*migrator", open(secret_file).read().strip())
    lines = []
    for name in selectable(m):
        folder = mutf7_decode(name)
        lines.append(f"F|{folder}")
        typ, data = m.select(quoted(name), readonly=True)
        if typ != "OK" or int(data[0]) == 0:
            continue
        for meta, body in messages(m):
            lines.append(message_line(folder, body, date_of(meta), flags_of(meta)))
    m.logout()
    return lines


def main():
    global BY_MESSAGE_ID
    args = [a for a in sys.argv[1:] if a != "--message-ids"]
    BY_MESSAGE_ID = len(args) != len(sys.argv) - 1
    if args[0] == "maildir":
        lines = maildir(args[1])
    else:
        lines = imap(args[1], args[2], args[3])
    for line in sorted(lines):
        print(line)


if __name__ == "__main__":
    main()
