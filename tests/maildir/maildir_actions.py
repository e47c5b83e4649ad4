#!/usr/bin/env python3
"""Changes a Maildir++ mailbox as a local mail program (or Dovecot) would, working on the files
themselves (not crossmove's code). The Maildir twin of tests/imap/user_actions.py; messages are
named by their Message-ID.

    maildir_actions.py MAILDIR ACTION...
    maildir_actions.py MAILDIR --message-ids   (prints "FOLDER|MESSAGE-ID" per message)

Each ACTION is one argument, its fields separated by '|':
    append|FOLDER|FILE|FLAGS|UNIX_DATE   (the folder is created when missing)
    flags|FOLDER|MESSAGE_ID|FLAGS        (replaces the flags and keywords)
    expunge|FOLDER|MESSAGE_ID
    move|FOLDER|MESSAGE_ID|DESTINATION
    rename|OLD|NEW                       (with the folders below it)
    delete|FOLDER                        (its messages go with it)
FOLDER names are IMAP-style, '/'-separated ("Archive/2023", "INBOX"); FLAGS are IMAP flags and
keywords, space-separated ("\\Seen $Label1"). Keywords are the folder's dovecot-keywords
letters, added to that file when new.
"""
import os
import re
import shutil
import sys
import time

LETTERS = {"\\Draft": "D", "\\Flagged": "F", "\\Answered": "R", "\\Seen": "S", "\\Deleted": "T"}
counter = 0


def folder_dir(root, folder):
    return root if folder == "INBOX" else os.path.join(root, "." + folder.replace("/", "."))


def ensure(path):
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)


def info_for(path, flags):
    """The ':2,' info letters for IMAP flags, keywords mapped through dovecot-keywords."""
    kw_file = os.path.join(path, "dovecot-keywords")
    keywords = {}
    if os.path.exists(kw_file):
        for line in open(kw_file):
            n, name = line.rstrip("\n").split(" ", 1)
            keywords[name] = chr(ord("a") + int(n))
    letters = ""
    for flag in flags.split():
        if flag in LETTERS:
            letters += LETTERS[flag]
        else:
            if flag not in keywords:
                n = len(keywords)
                with open(kw_file, "a") as f:
                    f.write(f"{n} {flag}\n")
                keywords[flag] = chr(ord("a") + n)
            letters += keywords[flag]
    return "".join(sorted(set(letters)))


def find(path, message_id):
    found = []
    for sub in ("cur", "new"):
        for name in os.listdir(os.path.join(path, sub)):
            with open(os.path.join(path, sub, name), "rb") as f:
                head = f.read(65536).split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
            m = re.search(rb"(?mi)^Message-ID:\s*(\S+)", head)
            if m and m.group(1).decode() == message_id:
                found.append((sub, name))
    assert len(found) == 1, (path, message_id, found)
    return found[0]


def message_ids(root):
    for entry in sorted(["INBOX"] + [e for e in os.listdir(root) if e.startswith(".")]):
        path = root if entry == "INBOX" else os.path.join(root, entry)
        if not os.path.isdir(os.path.join(path, "cur")):
            continue
        folder = "INBOX" if entry == "INBOX" else entry[1:].replace(".", "/")
        for sub in ("cur", "new"):
            for name in sorted(os.listdir(os.path.join(path, sub))):
                with open(os.path.join(path, sub, name), "rb") as f:
                    head = f.read(65536)
                m = re.search(rb"(?mi)^Message-ID:\s*(\S+)", head)
                print(f"{folder}|{m.group(1).decode() if m else ''}")


def main():
    global counter
    root = sys.argv[1]
    if sys.argv[2:] == ["--message-ids"]:
        message_ids(root)
        return
    for action in sys.argv[2:]:
        kind, *args = action.split("|")
        if kind == "append":
            folder, file, flags, date = args
            path = folder_dir(root, folder)
            ensure(path)
            counter += 1
            base = f"{int(time.time())}.M{counter}P{os.getpid()}.actions"
            tmp = os.path.join(path, "tmp", base)
            shutil.copyfile(file, tmp)
            os.utime(tmp, (int(date), int(date)))
            os.rename(tmp, os.path.join(path, "cur", f"{base}:2,{info_for(path, flags)}"))
        elif kind == "flags":
            folder, message_id, flags = args
            path = folder_dir(root, folder)
            sub, name = find(path, message_id)
            new = name.split(":2,")[0] + ":2," + info_for(path, flags)
            os.rename(os.path.join(path, sub, name), os.path.join(path, "cur", new))
        elif kind == "expunge":
            folder, message_id = args
            path = folder_dir(root, folder)
            sub, name = find(path, message_id)
            os.unlink(os.path.join(path, sub, name))
        elif kind == "move":
            folder, message_id, destination = args
            path, to = folder_dir(root, folder), folder_dir(root, destination)
            ensure(to)
            sub, name = find(path, message_id)
            # Keywords are letters of each folder's own file: named again in the destination's.
            names = {}
            kw_file = os.path.join(path, "dovecot-keywords")
            if os.path.exists(kw_file):
                for line in open(kw_file):
                    n, kw = line.rstrip("\n").split(" ", 1)
                    names[chr(ord("a") + int(n))] = kw
            info = name.split(":2,")[1] if ":2," in name else ""
            flags = [k for k, v in LETTERS.items() if v in info] + \
                [names[c] for c in info if c.islower()]
            new = name.split(":2,")[0] + ":2," + info_for(to, " ".join(flags))
            os.rename(os.path.join(path, sub, name), os.path.join(to, "cur", new))
        elif kind == "rename":
            old, new = (("." + n.replace("/", ".")) for n in args)
            for entry in sorted(os.listdir(root)):
                if entry == old or entry.startswith(old + "."):
                    os.rename(os.path.join(root, entry), os.path.join(root, new + entry[len(old):]))
        elif kind == "delete":
            shutil.rmtree(folder_dir(root, args[0]))
        else:
            raise SystemExit(f"unknown action {kind}")


if __name__ == "__main__":
    main()
