#!/usr/bin/env bash
# Benchmark (not a test): IMAP -> IMAP between two real Dovecot servers on loopback (mail on
# tmpfs), crossmove against the tools administrators use today, all in the same run, each into
# a fresh target mailbox, median of N runs (default 3), with peak RSS:
#   - crossmove run: the whole move (directories, snapshot, copy, verify, cleanup, routing);
#   - mbsync (isync): one-way pull, CopyArrivalDate, pipelined;
#   - doveadm backup -R with imapc: Dovecot pulling over IMAP and writing its own storage
#     directly (no IMAP on the target side);
#   - the target's raw MULTIAPPEND ceiling: bench/append_ceiling.cc appending the same messages
#     from memory (100 per command, 8 in flight): what no tool can beat.
# Then 200 mailboxes x 200 messages with --parallel against the ceiling for the same messages
# and against the source's read floor (bench/read_floor.py: every message read once, nothing
# written), with crossmove's peak RSS at 50, 100 and 200 mailboxes; and one 100 MB message.
#   bench/imap_copy.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
parallel=${PARALLEL:-4}
. bench/lib.sh
bench_install dovecot-imapd isync time
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DCROSSMOVE_TESTS=OFF >/dev/null
cmake --build build-bench -j2 --target crossmove append_ceiling >/dev/null
bin=$PWD/build-bench/crossmove
ceiling_bin=$PWD/build-bench/append_ceiling
dovecot_pair_root imap

measure() {  # command... -> "seconds rss_kb"
  /usr/bin/time -f "%e %M" -o "$root/time" "$@" >"$root/out" 2>&1 || {
    echo "failed: $*" >&2; cat "$root/out" >&2; exit 1; }
  cat "$root/time"
}
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

# An organization whose stores are the two Dovecots: generate_org.py's Maildir tree becomes the
# source server's mail; crossmove.toml points both databases at IMAP.
make_org() {  # dir mailboxes messages
  python3 examples/generate_org.py "$1" --mailboxes "$2" --messages "$3" --lab-corpus >/dev/null
  imap_stores "$1" "$root/secret" "$src_port" "$dst_port"
}
reset_org() {  # dir: back to "nothing moved yet", keeping the source mail
  rm -f "$1"/crossmove.journal* "$1"/crossmove-report.* "$1"/*.ldif.tmp
  cp "$1/pristine-source.ldif" "$1/source.ldif"
  cp "$1/pristine-target.ldif" "$1/target.ldif"
}
start_servers() {  # source-mail dir
  scripts/dovecot-server start "$root/dovecot-source" "$src_port" --mail "$1" >/dev/null
  scripts/dovecot-server start "$root/dovecot-target" "$dst_port" --mail "$root/target-mail" >/dev/null
  # Every tool reads a source whose index is built: the first reader would pay for it alone.
  for u in $(ls "$1/fabrikam.test"); do
    doveadm -c "$root/dovecot-source/dovecot.conf" index -u "$u@fabrikam.test" '*' >/dev/null
  done
}
wipe_target() { rm -rf "$root/target-mail/contoso.test/$1"; }

# --- one mailbox, the lab corpus -------------------------------------------------------------
org=$root/one
make_org "$org" 1 5000
cp "$org/source.ldif" "$org/pristine-source.ldif"; cp "$org/target.ldif" "$org/pristine-target.ldif"
user=$(ls "$org/source-mail/fabrikam.test")
start_servers "$org/source-mail"
msgs=5000
bytes=$(find "$org/source-mail" -type f -path '*/cur/*' -o -type f -path '*/new/*' | xargs cat | wc -c)
mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }')
write_mbsyncrc "$root/mbsyncrc" "$src_port" "$user@fabrikam.test" "$dst_port" \
  mbsync@contoso.test "$root/secret" "$root/mbsync-state" "Expunge None"
write_doveadm_conf "$root/doveadm.conf" "$root/dovecot-target/dovecot.conf" "$src_port" "$user@fabrikam.test"
printf 'ceiling@contoso.test\t%s\n' "$org/source-mail/fabrikam.test/$user" > "$root/ceiling.list"

declare -a cm_t cm_m cm_c mb_t mb_m da_t da_m ce_t
for i in $(seq "$runs"); do
  reset_org "$org"; wipe_target "$user"
  read -r t m < <(measure "$bin" --config "$org/crossmove.toml" run)
  cm_t+=("$t"); cm_m+=("$m"); cm_c+=("$(copy_seconds "$org/crossmove.journal.events.jsonl")")
  wipe_target mbsync; rm -rf "$root/mbsync-state"; mkdir -p "$root/mbsync-state"
  read -r t m < <(measure mbsync -c "$root/mbsyncrc" -a -q)
  mb_t+=("$t"); mb_m+=("$m")
  wipe_target doveadm
  read -r t m < <(measure doveadm -c "$root/doveadm.conf" backup -R -u doveadm@contoso.test imapc:)
  da_t+=("$t"); da_m+=("$m")
  wipe_target ceiling
  "$ceiling_bin" 127.0.0.1 "$dst_port" migrator "$root/secret" 1 "$root/ceiling.list" > "$root/ceiling.out"
  ce_t+=("$(cut -d' ' -f3 "$root/ceiling.out")")
done
# Byte for byte, flags, keywords, dates, folders: the last crossmove target against the source.
exact=$(python3 tests/imap/compare_mailboxes.py "127.0.0.1:$src_port" "$user@fabrikam.test" \
  "127.0.0.1:$dst_port" "$user@contoso.test" --secret-file "$root/secret" --map "Sent=Sent" \
  >/dev/null 2>&1 && echo "byte-exact" || echo "DIFFERENT")
cmt=$(printf '%s\n' "${cm_t[@]}" | median); cmm=$(printf '%s\n' "${cm_m[@]}" | median)
cmc=$(printf '%s\n' "${cm_c[@]}" | median)
mbt=$(printf '%s\n' "${mb_t[@]}" | median); mbm=$(printf '%s\n' "${mb_m[@]}" | median)
dat=$(printf '%s\n' "${da_t[@]}" | median); dam=$(printf '%s\n' "${da_m[@]}" | median)
cet=$(printf '%s\n' "${ce_t[@]}" | median)
cm_rate=$(div "$msgs" "$cmt")

rate() { div "$msgs" "$1"; }
printf '\nIMAP -> IMAP, one mailbox, %s messages, %s MB (median of %s)\n' "$msgs" "$mb" "$runs"
printf '%-46s %9s %9s %8s %10s\n' "" "seconds" "msg/s" "MB/s" "peak RSS"
row() {  # label seconds rss_kb
  local rss="-"; [ -n "$3" ] && rss="$(($3 / 1024)) MB"
  printf '%-46s %9s %9.0f %8.1f %10s\n' "$1" "$2" "$(rate "$2")" "$(div "$mb" "$2")" "$rss"
}
row "crossmove run (whole move; $exact)" "$cmt" "$cmm"
row "  its copy step alone" "$cmc" ""
row "mbsync (adds X-TUID to every message)" "$mbt" "$mbm"
row "doveadm backup -R imapc: (writes storage)" "$dat" "$dam"
row "raw MULTIAPPEND ceiling (from memory)" "$cet" ""
printf 'crossmove msg/s: %sx mbsync, %sx doveadm backup; whole move %sx the ceiling, copy step %sx\n' \
  "$(div "$(rate "$cmt")" "$(rate "$mbt")")" "$(div "$(rate "$cmt")" "$(rate "$dat")")" \
  "$(div "$(rate "$cmt")" "$(rate "$cet")")" "$(div "$(rate "$cmc")" "$(rate "$cet")")"

# --- many mailboxes, --parallel ------------------------------------------------------------
scripts/dovecot-server stop "$root/dovecot-source"; scripts/dovecot-server stop "$root/dovecot-target"
rm -rf "$root/target-mail"
many=$root/many
make_org "$many" 200 40000
cp "$many/source.ldif" "$many/pristine-source.ldif"; cp "$many/target.ldif" "$many/pristine-target.ldif"
start_servers "$many/source-mail"
for u in $(ls "$many/source-mail/fabrikam.test"); do
  printf 'ceil-%s@contoso.test\t%s\n' "$u" "$many/source-mail/fabrikam.test/$u"
done > "$root/ceiling-many.list"
ls "$many/source-mail/fabrikam.test" | sed 's/$/@fabrikam.test/' > "$root/readers-many.list"
server_cpu() {  # CPU seconds used so far by a Dovecot instance and its children
  awk '{ printf "%.2f", ($14 + $15 + $16 + $17) / 100 }' "/proc/$(cat "$root/dovecot-$1/run/master.pid")/stat"
}
declare -a pm_t pm_m pc_t pr_t
for i in $(seq "$runs"); do
  reset_org "$many"; rm -rf "$root/target-mail/contoso.test"
  s0=$(server_cpu source); t0=$(server_cpu target)
  read -r t m < <(measure "$bin" --config "$many/crossmove.toml" run --parallel "$parallel")
  pm_t+=("$t"); pm_m+=("$m")
  pm_scpu=$(awk -v a="$(server_cpu source)" -v b="$s0" 'BEGIN { print a - b }')
  pm_tcpu=$(awk -v a="$(server_cpu target)" -v b="$t0" 'BEGIN { print a - b }')
  rm -rf "$root/target-mail/contoso.test"
  t0=$(server_cpu target)
  "$ceiling_bin" 127.0.0.1 "$dst_port" migrator "$root/secret" "$parallel" "$root/ceiling-many.list" > "$root/ceiling.out"
  pc_tcpu=$(awk -v a="$(server_cpu target)" -v b="$t0" 'BEGIN { print a - b }')
  pc_t+=("$(cut -d' ' -f3 "$root/ceiling.out")")
  s0=$(server_cpu source)
  python3 bench/read_floor.py 127.0.0.1 "$src_port" migrator "$root/secret" "$parallel" "$root/readers-many.list" > "$root/floor.out"
  pr_scpu=$(awk -v a="$(server_cpu source)" -v b="$s0" 'BEGIN { print a - b }')
  pr_t+=("$(cut -d' ' -f3 "$root/floor.out")")
done
prt=$(printf '%s\n' "${pr_t[@]}" | median)
pmt=$(printf '%s\n' "${pm_t[@]}" | median); pmm=$(printf '%s\n' "${pm_m[@]}" | median)
pct=$(printf '%s\n' "${pc_t[@]}" | median)
# Peak RSS as the batch grows (first 50 and 100 mailboxes of the same organization).
declare -A rss_at
for n in 50 100; do
  reset_org "$many"; rm -rf "$root/target-mail/contoso.test"
  head -n $((n + 2)) "$many/users.csv" > "$many/users-$n.csv"
  read -r t m < <(measure "$bin" --config "$many/crossmove.toml" run --parallel "$parallel" --users-file "$many/users-$n.csv")
  rss_at[$n]=$m
done
printf '\n200 mailboxes x 200 messages (40,000), --parallel %s (median of %s)\n' "$parallel" "$runs"
printf '%-44s %9s %9.0f %11s %10s\n' "crossmove run (whole move)" "$pmt" "$(div 40000 "$pmt")" \
  "$(div "$(div 40000 "$pmt")" "$(div 40000 "$pct")")" "$((pmm / 1024)) MB"
printf '%-44s %9s %9.0f %11s %10s\n' "raw MULTIAPPEND ceiling, $parallel connections" "$pct" "$(div 40000 "$pct")" "1.00" "-"
printf '%-44s %9s %9.0f %11s %10s\n' "source read floor, $parallel connections (no writes)" "$prt" "$(div 40000 "$prt")" \
  "$(div "$(div 40000 "$prt")" "$(div 40000 "$pct")")" "-"
printf '%-44s %s MB at 50, %s MB at 100, %s MB at 200 mailboxes\n' "crossmove peak RSS" \
  "$((rss_at[50] / 1024))" "$((rss_at[100] / 1024))" "$((pmm / 1024))"
printf 'server CPU in the last run: crossmove source %s s + target %s s; ceiling target %s s; read floor source %s s\n' \
  "$pm_scpu" "$pm_tcpu" "$pc_tcpu" "$pr_scpu"
# The servers share this machine's cores: a move cannot use less server CPU than the read floor
# plus the ceiling, so its best ratio to the ceiling here is about ceiling / (ceiling + floor).
printf 'best ratio to the ceiling any IMAP -> IMAP move can reach on these shared cores: %s\n' \
  "$(awk -v c="$pc_tcpu" -v f="$pr_scpu" -v n="$(nproc)" -v ct="$pct" 'BEGIN { w = (c + f) / n; if (w < ct) w = ct; printf "%.2f", ct / w }')"

# --- one 100 MB message ----------------------------------------------------------------------
scripts/dovecot-server stop "$root/dovecot-source"; scripts/dovecot-server stop "$root/dovecot-target"
rm -rf "$root/target-mail" "$many"
big=$root/big
make_org "$big" 1 1
cp "$big/source.ldif" "$big/pristine-source.ldif"; cp "$big/target.ldif" "$big/pristine-target.ldif"
inbox=$(ls -d "$big"/source-mail/fabrikam.test/*)/cur
python3 - "$inbox" <<'PY'
import os, sys
line = b"x" * 998 + b"\r\n"
head = b"Message-ID: <big@bench>\r\nSubject: 100 MB\r\n\r\n"
count = (100 * 1024 * 1024 - len(head)) // len(line)
path = os.path.join(sys.argv[1], f"1700000000.M1P1.big,S={len(head) + count * len(line)}:2,S")
with open(path, "wb") as f:
    f.write(head)
    for _ in range(count):
        f.write(line)
os.utime(path, (1700000000, 1700000000))
PY
start_servers "$big/source-mail"
read -r bt bm < <(measure "$bin" --config "$big/crossmove.toml" run)
printf '\n%-44s %9s s %20s %d MB\n' "one 100 MB message, IMAP -> IMAP" "$bt" "peak RSS" $((bm / 1024))
