#!/usr/bin/env python3
"""Changes a mailbox over IMAP as its user's mail program would (Python's imaplib, not
crossmove's code). Messages are named by their Message-ID.

    user_actions.py HOST:PORT SECRET_FILE USER ACTION...   (logs in as USER*migrator)

Each ACTION is one argument, its fields separated by '|':
    append|FOLDER|FILE|FLAGS|UNIX_DATE   (the folder is created when missing)
    flags|FOLDER|MESSAGE_ID|FLAGS        (replaces the flags and keywords)
    expunge|FOLDER|MESSAGE_ID
    move|FOLDER|MESSAGE_ID|DESTINATION   (UID MOVE)
    rename|OLD|NEW
    delete|FOLDER                        (its messages go with it)
FLAGS are space-separated ("\\Seen $Label1"), FOLDER names '/'-separated ASCII.
"""
import imaplib
import sys


def quote(name):
    return '"%s"' % name


def uid_of(m, folder, message_id):
    typ, _ = m.select(quote(folder))
    assert typ == "OK", folder
    typ, data = m.uid("search", None, "HEADER", "Message-ID", quote(message_id))
    uids = data[0].split()
    assert len(uids) == 1, (folder, message_id, uids)
    return uids[0].decode()


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    m = imaplib.IMAP4(host, int(port))
    m.login(f"{sys.argv[3]}*migrator", open(sys.argv[2]).read().strip())
    for action in sys.argv[4:]:
        kind, *args = action.split("|")
        if kind == "append":
            folder, file, flags, date = args
            m.create(quote(folder))
            with open(file, "rb") as f:
                body = f.read()
            typ, data = m.append(quote(folder), "(%s)" % flags,
                                 imaplib.Time2Internaldate(int(date)), body)
            assert typ == "OK", data
        elif kind == "flags":
            folder, message_id, flags = args
            uid = uid_of(m, folder, message_id)
            typ, data = m.uid("store", uid, "FLAGS", "(%s)" % flags)
            assert typ == "OK", data
        elif kind == "expunge":
            folder, message_id = args
            uid = uid_of(m, folder, message_id)
            m.uid("store", uid, "+FLAGS", "(\\Deleted)")
            typ, data = m.uid("expunge", uid)
            assert typ == "OK", data
        elif kind == "move":
            folder, message_id, destination = args
            uid = uid_of(m, folder, message_id)
            m.create(quote(destination))
            typ, data = m.uid("move", uid, quote(destination))
            assert typ == "OK", data
        elif kind == "rename":
            typ, data = m.rename(quote(args[0]), quote(args[1]))
            assert typ == "OK", data
        elif kind == "delete":
            typ, data = m.delete(quote(args[0]))
            assert typ == "OK", data
        else:
            raise SystemExit(f"unknown action {kind}")
        if m.state == "SELECTED":
            m.unselect()
    m.logout()


if __name__ == "__main__":
    main()
