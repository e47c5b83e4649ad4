#!/usr/bin/env bash
# Benchmark (not a timed test) of `max-bytes-per-second`: one mailbox of 40 messages of 1 MiB
# moved IMAP -> IMAP between two Dovecot servers on loopback (mail on tmpfs), unpaced and with
# the source database paced at RATE; the copy step's rate (message bytes over the step's time,
# from the event log) against the setting, median of 3, with mbsync's unpaced pull of the same
# mailbox as the peer. Every move is checked on both servers by Python's imaplib
# (tests/imap/mailbox_digest.py).
#
#   RATE=4MB bench/throttle.sh          (any max-bytes-per-second value in MB)
#   CROSSMOVE=build-asan/crossmove bench/throttle.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rate_mb=${RATE:-4MB}; rate_mb=${rate_mb%MB}
. bench/lib.sh
bench_install dovecot-imapd isync time
bench_binary
dovecot_pair_root throttle

org=$root/org
python3 examples/generate_org.py "$org" --mailboxes 1 --messages 1 --inbox-only >/dev/null
imap_stores "$org" "$root/secret" "$src_port" "$dst_port"
cp "$org/crossmove.toml" "$org/unpaced.toml"
sed "s|^store = \"imap://%u@127.0.0.1:$src_port/\"|&\nmax-bytes-per-second = \"${rate_mb}MB\"|" \
  "$org/unpaced.toml" > "$org/paced.toml"
grep -q max-bytes-per-second "$org/paced.toml"
cp "$org/source.ldif" "$org/pristine-source.ldif"; cp "$org/target.ldif" "$org/pristine-target.ldif"
user=$(ls "$org/source-mail/fabrikam.test")
python3 - "$org/source-mail/fabrikam.test/$user" <<'PY'
import glob, os, sys
sys.path.insert(0, "tests/imap")
from hostile_imap import random_message
box = sys.argv[1]
for f in glob.glob(box + "/cur/*") + glob.glob(box + "/new/*"):
    os.remove(f)
for i in range(40):
    when = 1700000000 + i * 3600
    path = f"{box}/cur/{when}.M{i}P1.bench,S={1 << 20}:2,S"
    with open(path, "wb") as f:
        f.write(random_message(1 << 20, 7000 + i))
    os.utime(path, (when, when))
PY
total=$(du -cb "$org/source-mail/fabrikam.test/$user/cur/"* | tail -1 | cut -f1)
mkdir -p "$root/target-mail"
scripts/dovecot-server start "$root/dovecot-source" "$src_port" --mail "$org/source-mail" >/dev/null
scripts/dovecot-server start "$root/dovecot-target" "$dst_port" --mail "$root/target-mail" >/dev/null
doveadm -c "$root/dovecot-source/dovecot.conf" index -u "$user@fabrikam.test" '*' >/dev/null

reset() {
  rm -f "$org"/crossmove.journal* "$org"/crossmove-report.*
  cp "$org/pristine-source.ldif" "$org/source.ldif"; cp "$org/pristine-target.ldif" "$org/target.ldif"
  rm -rf "$root/target-mail/contoso.test"
}
check() {  # user fields: the target holds the source's messages (imaplib on both servers)
  # crossmove's copies: folder, bytes, date, flags and keywords; mbsync's: how many per folder
  # (it adds a header of its own, X-TUID, to what it appends)
  python3 tests/imap/mailbox_digest.py "127.0.0.1:$src_port" "$root/secret" "$user@fabrikam.test" |
    cut -d'|' -f"$2" | sort > "$root/s"
  python3 tests/imap/mailbox_digest.py "127.0.0.1:$dst_port" "$root/secret" "$1" |
    cut -d'|' -f"$2" | sort > "$root/t"
  cmp -s "$root/s" "$root/t" || { echo "throttle: the target $1 differs from the source" >&2; exit 1; }
}
move() {  # toml -> "copy_seconds rss_kb"
  reset
  /usr/bin/time -f "%M" -o "$root/time" "$bin" --config "$org/$1" run >"$root/out" 2>&1 ||
    { echo "throttle: the move failed" >&2; cat "$root/out" >&2; exit 1; }
  check "$user@contoso.test" 1-
  echo "$(copy_seconds "$org/crossmove.journal.events.jsonl") $(cat "$root/time")"
}
write_mbsyncrc "$root/mbsyncrc" "$src_port" "$user@fabrikam.test" "$dst_port" \
  mbsync@contoso.test "$root/secret" "$root/mbsync-state" "Expunge None"
: > "$root/unpaced"; : > "$root/paced"; : > "$root/mbsync"
for i in 1 2 3; do
  move unpaced.toml >> "$root/unpaced"
  move paced.toml >> "$root/paced"
  rm -rf "$root/target-mail/contoso.test/mbsync" "$root/mbsync-state"; mkdir -p "$root/mbsync-state"
  /usr/bin/time -f "%e %M" -o "$root/time" mbsync -c "$root/mbsyncrc" -a -q
  check mbsync@contoso.test 1
  cat "$root/time" >> "$root/mbsync"
done
mb() { awk -v b="$total" -v s="$1" 'BEGIN { printf "%.2f", b / s / 1e6 }'; }
u=$(cut -d' ' -f1 "$root/unpaced" | median); p=$(cut -d' ' -f1 "$root/paced" | median)
m=$(cut -d' ' -f1 "$root/mbsync" | median)
printf '\nmax-bytes-per-second, IMAP -> IMAP (Dovecot -> Dovecot, tmpfs): %s bytes in 40 messages\n' "$total"
printf '%-34s %10s %10s %14s %10s\n' "median of 3" "seconds" "MB/s" "of the setting" "RSS MB"
printf '%-34s %10s %10s %14s %10s\n' "crossmove unpaced (copy step)" "$u" "$(mb "$u")" "-" \
  $(( $(cut -d' ' -f2 "$root/unpaced" | median) / 1024 ))
printf '%-34s %10s %10s %14s %10s\n' "crossmove at ${rate_mb} MB/s (copy step)" "$p" "$(mb "$p")" \
  "$(awk -v r="$(mb "$p")" -v s="$rate_mb" 'BEGIN { printf "%.3f", r / s }')" \
  $(( $(cut -d' ' -f2 "$root/paced" | median) / 1024 ))
printf '%-34s %10s %10s %14s %10s\n' "mbsync (peer, unpaced, whole run)" "$m" "$(mb "$m")" "-" \
  $(( $(cut -d' ' -f2 "$root/mbsync" | median) / 1024 ))
