"""What the tests' independent IMAP readers share (compare_mailboxes.py, mailbox_digest.py,
mailbox_state.py): Python's imaplib and the RFCs, never crossmove's code.
"""
import base64
import imaplib
import re
import time


def mutf7_decode(raw):
    """Modified UTF-7 (RFC 3501 5.1.3) -> str."""
    out, i = [], 0
    while i < len(raw):
        if raw[i] == "&":
            j = raw.index("-", i)
            if j == i + 1:
                out.append("&")
            else:
                chunk = raw[i + 1:j].replace(",", "/")
                chunk += "=" * (-len(chunk) % 4)
                out.append(base64.b64decode(chunk).decode("utf-16-be"))
            i = j + 1
        else:
            out.append(raw[i])
            i += 1
    return "".join(out)


def parse_list(line):
    """One LIST answer -> (attributes, mailbox name as the server sent it, unquoted)."""
    got = re.match(rb'\((.*?)\) (?:"(.)"|NIL) (.*)$', line)
    attrs, name = got.group(1).decode(), got.group(3).decode()
    if name.startswith('"'):
        name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return attrs, name


def quoted(name):
    """A mailbox name as a quoted string for SELECT / EXAMINE."""
    return '"%s"' % name.replace("\\", "\\\\").replace('"', '\\"')


def selectable(m):
    """The names of every folder that can be selected (not \\Noselect, not \\NonExistent)."""
    for line in m.list()[1]:
        attrs, name = parse_list(line)
        if "\\Noselect" not in attrs and "\\NonExistent" not in attrs:
            yield name


def flags_of(meta):
    """The FLAGS of a FETCH answer's metadata, \\Recent left out (it is the session's)."""
    return [f for f in re.search(rb"FLAGS \(([^)]*)\)", meta).group(1).decode().split()
            if f != "\\Recent"]


def date_of(meta):
    """INTERNALDATE in seconds since the epoch (Internaldate2tuple gives local time)."""
    return int(time.mktime(imaplib.Internaldate2tuple(meta)))


def messages(m):
    """(metadata, bytes) of every message of the selected folder, by UID."""
    typ, msgs = m.uid("fetch", "1:*", "(FLAGS INTERNALDATE BODY.PEEK[])")
    for part in msgs:
        if isinstance(part, tuple):
            yield part
