#!/usr/bin/env python3
"""Every message of IMAP mailboxes, one line each, read over IMAP as a user would see them:

    FOLDER|SHA256|INTERNALDATE|FLAG LETTERS|KEYWORDS

in the form tests/cli/org.h's MailOf gives for a Maildir tree (FOLDER ".A.B" in modified UTF-7,
"INBOX"; flags as Maildir letters D F R S T; keywords sorted, each followed by a space), so that
a mailbox on a server and one in files compare directly. Independent of crossmove's code.

    mailbox_digest.py HOST:PORT SECRET_FILE USER...   (logs in as USER*migrator)

With --message-ids, prints "USER|FOLDER|MESSAGE-ID" per message instead.
"""
import hashlib
import imaplib
import sys

from imap_oracle import date_of, flags_of, messages, quoted, selectable

LETTERS = {"\\Draft": "D", "\\Flagged": "F", "\\Answered": "R", "\\Seen": "S", "\\Deleted": "T"}


def main():
    ids = "--message-ids" in sys.argv
    args = [a for a in sys.argv[1:] if a != "--message-ids"]
    host, port = args[0].rsplit(":", 1)
    secret = open(args[1]).read().strip()
    for user in args[2:]:
        m = imaplib.IMAP4(host, int(port))
        m.login(f"{user}*migrator", secret)
        for name in selectable(m):
            typ, data = m.select(quoted(name), readonly=True)
            if typ != "OK" or int(data[0]) == 0:
                continue
            folder = "INBOX" if name == "INBOX" else "." + name.replace("/", ".")
            if ids:
                typ, msgs = m.uid("fetch", "1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
                for part in msgs:
                    if isinstance(part, tuple):
                        mid = part[1].decode(errors="replace").split(":", 1)[-1].strip()
                        print(f"{user}|{folder}|{mid}")
                continue
            for meta, body in messages(m):
                flags = flags_of(meta)
                letters = "".join(sorted(LETTERS[f] for f in flags if f in LETTERS))
                keywords = "".join(k + " " for k in sorted(f for f in flags if not f.startswith("\\")))
                date = date_of(meta)
                print(f"{folder}|{hashlib.sha256(body).hexdigest()}|{date}|{letters}|{keywords}")
        m.logout()


if __name__ == "__main__":
    main()
