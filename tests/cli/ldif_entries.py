#!/usr/bin/env python3
"""Prints the entries of an LDIF content file (RFC 2849) in a canonical form, for tests that
compare two directories without crossmove's own LDIF code:

    ldif_entries.py FILE

One line per attribute value, `repr(dn) name: repr(value)`, entries sorted by DN
(case-insensitively) and values in file order, so two files compare equal exactly when they
hold the same entries and a difference shows as whole lines. Folded lines are unfolded, `::` values base64-decoded,
comments and `version:` dropped. Exits 1 on anything it does not understand (a change record,
a `:<` URL value, a line without a colon), so a broken file cannot compare equal.
"""
import base64
import sys


def records(text):
    lines = []
    for raw in text.replace("\r\n", "\n").split("\n"):
        if raw.startswith(" ") and lines:
            lines[-1] += raw[1:]
        else:
            lines.append(raw)
    current = []
    for line in lines:
        if line.startswith("#"):
            continue
        if line == "":
            if current:
                yield current
            current = []
            continue
        current.append(line)
    if current:
        yield current


def value(line):
    name, sep, rest = line.partition(":")
    if not sep:
        raise ValueError(f"not an attribute line: {line!r}")
    if rest.startswith(":"):
        return name, base64.b64decode(rest[1:].strip()).decode("utf-8", "surrogateescape")
    if rest.startswith("<"):
        raise ValueError(f"URL value: {line!r}")
    return name, rest[1:] if rest.startswith(" ") else rest


def main():
    with open(sys.argv[1], encoding="utf-8", errors="surrogateescape") as f:
        text = f.read()
    entries = []
    for rec in records(text):
        if len(rec) == 1 and rec[0].startswith("version:"):
            continue
        if rec[0].startswith("version:"):
            rec = rec[1:]
        name, dn = value(rec[0])
        if name.lower() != "dn":
            raise ValueError(f"a record that does not start with dn: {rec[0]!r}")
        attrs = [value(line) for line in rec[1:]]
        if any(n.lower() == "changetype" for n, _ in attrs):
            raise ValueError(f"a change record: {dn!r}")
        entries.append((dn.lower(), dn, attrs))
    entries.sort()
    for _, dn, attrs in entries:
        print(f"{dn!r}")
        for n, v in attrs:
            print(f"{dn!r} {n}: {v!r}")
    print(f"# {len(entries)} entries")


if __name__ == "__main__":
    try:
        main()
    except (ValueError, OSError) as e:
        print(f"ldif_entries.py: {e}", file=sys.stderr)
        sys.exit(1)
