#!/usr/bin/env python3
"""What a tool's target carried over of bench/incremental_changes.py's changes, from two
mailbox_state.py --message-ids listings (source, target) and the changes' JSON:

    incremental_check.py SOURCE_STATE TARGET_STATE CHANGES.json

Prints "new/N flags/N expunged/N moved/N renamed duplicates differ" on one line: how many of each
kind of change the target shows, whether the renamed folder is there under its new name (and
not the old), how many messages it holds more often than the source, and how many state lines
differ at all (0: the target equals the source).
"""
import collections
import json
import sys


def load(path):
    folders, messages = set(), collections.defaultdict(list)
    for line in open(path):
        parts = line.rstrip("\n").split("|")
        if parts[0] == "F":
            folders.add(parts[1])
        else:
            messages[parts[2]].append((parts[1], parts[4], parts[5]))
    return folders, messages


def flags_of(entry):
    letters = {"D": "\\Draft", "F": "\\Flagged", "R": "\\Answered", "S": "\\Seen", "T": "\\Deleted"}
    return sorted([letters[c] for c in entry[1]] + entry[2].split())


src_folders, src = load(sys.argv[1])
dst_folders, dst = load(sys.argv[2])
changes = json.load(open(sys.argv[3]))
new = sum(1 for mid in changes["new"] if len(dst.get(mid, [])) == 1)
flags = sum(1 for mid, want in changes["flags"].items()
            if mid in dst and len(dst[mid]) == 1 and flags_of(dst[mid][0]) == sorted(want))
expunged = sum(1 for mid in changes["expunged"] if mid not in dst)
moved = sum(1 for mid, folder in changes["moved"].items()
            if [e[0] for e in dst.get(mid, [])] == [folder])
old, renamed = changes["renamed"]
renamed_ok = "yes" if renamed in dst_folders and old not in dst_folders else "no"
duplicates = sum(max(0, len(dst[mid]) - len(src.get(mid, []))) for mid in dst)
differ = len(set(open(sys.argv[1])) ^ set(open(sys.argv[2])))
print(f"{new}/{len(changes['new'])} {flags}/{len(changes['flags'])} "
      f"{expunged}/{len(changes['expunged'])} {moved}/{len(changes['moved'])} {renamed_ok} "
      f"{duplicates} {differ}")
