#!/usr/bin/env bash
# Benchmark and soak (not a timed test): big messages IMAP -> IMAP between two real Dovecot
# servers on loopback (mail on tmpfs), every message's SHA-256 compared on both servers through
# Python's imaplib (tests/imap/mailbox_digest.py, independent of crossmove) after every move:
#   (a) one mailbox holding one 60 MiB message;
#   (b) one mailbox of 20 messages of 5-30 MiB;
# random bytes (base64 lines, CRLF) inside valid RFC 5322 messages (tests/imap/hostile_imap.py's
# random_message). Each case: 3 moves with crossmove's default verification, 3 with
# verify = "sizes" (the opt-out; "normal" where the config refuses "sizes", said in the output),
# then RUNS more moves with the default; median of 3 wall time and peak RSS per mode, and the
# copy step alone (target-provisioned -> content-copied in the event log) of the default runs.
#
#   RUNS=30 bench/big_messages.sh
#   KEEP_DIFFERENT=DIR: a target mailbox whose messages differ is copied there for a look
#   CROSSMOVE=build-asan/crossmove RUNS=2 bench/big_messages.sh   (an existing binary; without
#                                   it a Release build in build-bench is made, as imap_copy.sh)
# Exits non-zero if any message differs.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-30}
. bench/lib.sh
bench_install dovecot-imapd time
bench_binary
[ -x "$bin" ] || { echo "big_messages: no crossmove binary at $bin" >&2; exit 1; }
dovecot_pair_root big

# One organization of two mailboxes whose stores are the two Dovecots.
org=$root/org
python3 examples/generate_org.py "$org" --mailboxes 2 --messages 2 --inbox-only >/dev/null
imap_stores "$org" "$root/secret" "$src_port" "$dst_port"
cp "$org/crossmove.toml" "$org/default.toml"
cp "$org/source.ldif" "$org/pristine-source.ldif"; cp "$org/target.ldif" "$org/pristine-target.ldif"
mapfile -t users < <(ls "$org/source-mail/fabrikam.test")
# The two mailboxes' mail: (a) one 60 MiB message, (b) 20 of 5-30 MiB.
python3 - "$org/source-mail/fabrikam.test" "${users[0]}" "${users[1]}" <<'PY'
import glob, os, random, sys
sys.path.insert(0, "tests/imap")
from hostile_imap import random_message
base, one, twenty = sys.argv[1:]
def fill(user, sizes, seed):
    for f in glob.glob(os.path.join(base, user, "cur", "*")) + glob.glob(os.path.join(base, user, "new", "*")):
        os.remove(f)
    for i, size in enumerate(sizes):
        when = 1700000000 + i * 3600
        path = os.path.join(base, user, "cur", f"{when}.M{i}P{seed}.bench,S={size}:2,S")
        with open(path, "wb") as f:
            f.write(random_message(size, seed * 1000 + i))
        os.utime(path, (when, when))
fill(one, [60 * 1024 * 1024], 1)
rng = random.Random(2)
fill(twenty, [rng.randint(5 * 1024 * 1024, 30 * 1024 * 1024) for _ in range(20)], 2)
PY
mkdir -p "$root/target-mail"
scripts/dovecot-server start "$root/dovecot-source" "$src_port" --mail "$org/source-mail" >/dev/null
scripts/dovecot-server start "$root/dovecot-target" "$dst_port" --mail "$root/target-mail" >/dev/null
for u in "${users[@]}"; do
  doveadm -c "$root/dovecot-source/dovecot.conf" index -u "$u@fabrikam.test" '*' >/dev/null
done

# verify = "sizes" where the config takes it; "normal" (and said so) where it does not.
sizes_mode=sizes
sed 's/^journal = /verify = "sizes"\njournal = /' "$org/default.toml" > "$org/sizes.toml"
if ! "$bin" --config "$org/sizes.toml" plan >"$root/probe" 2>&1 && grep -qi "verify" "$root/probe"; then
  sizes_mode=normal
  sed 's/^journal = /verify = "normal"\njournal = /' "$org/default.toml" > "$org/sizes.toml"
fi

reset_org() {  # back to "nothing moved yet", keeping the source mail; the target mailbox gone
  rm -f "$org"/crossmove.journal* "$org"/crossmove-report.* "$org"/*.ldif.tmp
  cp "$org/pristine-source.ldif" "$org/source.ldif"
  cp "$org/pristine-target.ldif" "$org/target.ldif"
  rm -rf "$root/target-mail/contoso.test/$1"
}
moves=0 compared=0 differ=0
move() {  # user users-file toml -> "seconds rss_kb copy_seconds"; compares both servers after
  local user=$1 list=$2 toml=$3
  reset_org "$user"
  cp "$toml" "$org/crossmove.toml"
  if ! /usr/bin/time -f "%e %M" -o "$root/time" "$bin" --config "$org/crossmove.toml" run \
      --users-file "$list" >"$root/out" 2>&1; then
    echo "big_messages: the move of $user failed" >&2; cat "$root/out" >&2; exit 1
  fi
  python3 tests/imap/mailbox_digest.py "127.0.0.1:$src_port" "$root/secret" "$user@fabrikam.test" |
    sort > "$root/source.digest"
  python3 tests/imap/mailbox_digest.py "127.0.0.1:$dst_port" "$root/secret" "$user@contoso.test" |
    sort > "$root/target.digest"
  local n d
  n=$(wc -l < "$root/source.digest")
  # A message differs when the target has no identical copy of it; messages the target has
  # beyond the source's count too (a corrupted copy is one missing plus one extra: counted once).
  local missing extra
  missing=$(comm -23 "$root/source.digest" "$root/target.digest" | wc -l)
  extra=$(comm -13 "$root/source.digest" "$root/target.digest" | wc -l)
  d=$(( missing > extra ? missing : extra ))
  [ "$n" -gt 0 ] || { echo "big_messages: no messages read from the source of $user" >&2; exit 1; }
  moves=$((moves + 1)) compared=$((compared + n)) differ=$((differ + d))
  if [ "$d" != 0 ]; then
    echo "big_messages: $d messages of $user differ (move $moves)" >&2
    diff "$root/source.digest" "$root/target.digest" >&2 || true
    # Where the bytes part: each target file against the source file of its Message-ID, both
    # with CRLF line ends as the servers serve them (Dovecot stores LF).
    python3 - "$org/source-mail/fabrikam.test/$user" "$root/target-mail/contoso.test/$user" <<'PY' >&2 || true
import glob, re, sys
def load(p):
    data = open(p, "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    m = re.match(rb"Message-ID: (\S+)", data)  # a copy whose first bytes are wrong has none
    return (m.group(1) if m else b"(no Message-ID first: " + p.rsplit("/", 1)[-1].encode() + b")"), data
src = dict(load(p) for p in glob.glob(sys.argv[1] + "/cur/*"))
for p in sorted(glob.glob(sys.argv[2] + "/cur/*") + glob.glob(sys.argv[2] + "/new/*")):
    mid, a = load(p)
    b = src.get(mid, b"")
    if a != b:
        at = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
        found = b.find(a[at:at + 64])
        there = f"{found} ({found / 1048576:.3f} MiB)" if found >= 0 else "nowhere"
        print(f"  {mid.decode()}: target {len(a)} bytes, source {len(b)}; first difference at "
              f"byte {at} ({at / 1048576:.3f} MiB); the target's bytes there are the source's at "
              f"{there}")
PY
    if [ -n "${KEEP_DIFFERENT:-}" ]; then
      mkdir -p "$KEEP_DIFFERENT/move-$moves"
      cp -r "$root/target-mail/contoso.test/$user" "$KEEP_DIFFERENT/move-$moves/"
      cp "$root/out" "$KEEP_DIFFERENT/move-$moves/crossmove.out"
    fi
  fi
  echo "$(cat "$root/time") $(copy_seconds "$org/crossmove.journal.events.jsonl")" > "$root/last"
}

declare -A result
for case in a b; do
  if [ $case = a ]; then user=${users[0]}; line=3; label="one 60 MiB message"
  else user=${users[1]}; line=4; label="20 messages of 5-30 MiB"; fi
  { head -n 2 "$org/users.csv"; sed -n "${line}p" "$org/users.csv"; } > "$org/users-$case.csv"
  : > "$root/default.times"; : > "$root/sizes.times"
  for i in 1 2 3; do
    move "$user" "$org/users-$case.csv" "$org/default.toml"; cat "$root/last" >> "$root/default.times"
    move "$user" "$org/users-$case.csv" "$org/sizes.toml"; cat "$root/last" >> "$root/sizes.times"
  done
  for i in $(seq "$runs"); do
    move "$user" "$org/users-$case.csv" "$org/default.toml"
    printf '  %s: move %s of %s, %s messages compared so far, %s differ\n' "$case" "$i" "$runs" \
      "$compared" "$differ" >&2
  done
  result[$case.label]=$label
  result[$case.dt]=$(cut -d' ' -f1 "$root/default.times" | median)
  result[$case.dm]=$(( $(cut -d' ' -f2 "$root/default.times" | median) / 1024 ))
  result[$case.st]=$(cut -d' ' -f1 "$root/sizes.times" | median)
  result[$case.sm]=$(( $(cut -d' ' -f2 "$root/sizes.times" | median) / 1024 ))
  result[$case.ct]=$(cut -d' ' -f3 "$root/default.times" | median)
done

printf '\nBig messages IMAP -> IMAP (Dovecot -> Dovecot, tmpfs), %s\n' "$bin"
printf 'moves: %s   messages compared (SHA-256, flags, date on both servers): %s   differ: %s\n' \
  "$moves" "$compared" "$differ"
[ "$sizes_mode" = sizes ] ||
  printf 'NOTE: this build refuses verify = "sizes": its column is verify = "normal"\n'
printf '%-26s %14s %14s %14s %14s %12s\n' "median of 3" "default s" "default RSS" \
  "$sizes_mode s" "$sizes_mode RSS" "copy alone s"
for case in a b; do
  printf '%-26s %14s %11s MB %14s %11s MB %12s\n' "${result[$case.label]}" "${result[$case.dt]}" \
    "${result[$case.dm]}" "${result[$case.st]}" "${result[$case.sm]}" "${result[$case.ct]}"
done
[ "$differ" = 0 ]
