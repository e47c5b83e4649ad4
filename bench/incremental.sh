#!/usr/bin/env bash
# Benchmark (not a test): delta passes after an initial sync, IMAP -> IMAP between two real
# Dovecot servers on loopback (mail on tmpfs), one mailbox of the lab corpus, each tool into a
# target mailbox of its own, median of N runs (default 3):
#   - crossmove's delta pass (bench/delta_pass.cc: SyncMailbox, what `complete` will run);
#   - mbsync (isync): Sync Pull, Create/Remove/Expunge Near, CopyArrivalDate;
#   - doveadm backup -R with imapc: Dovecot reproducing the source in its own storage.
# (a) nothing changed since the initial sync: each tool's rerun; (b) after the changes of
# bench/incremental_changes.py (per 5,000 messages: 200 new, 500 flag changes, 100 expunged, 50
# moved, one folder renamed): time, and what each target shows of each change, the duplicates
# it holds, and how many state lines differ from the source (bench/incremental_check.py over
# tests/imap/mailbox_state.py, by Message-ID: mbsync adds a header to every message).
#   bench/incremental.sh [runs]          MESSAGES=200 for a smoke run; BUILD=DIR to use a build
#                                        tree that has delta_pass already (else build-bench)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
msgs=${MESSAGES:-5000}
. bench/lib.sh
bench_install dovecot-imapd isync time
if [ -z "${BUILD:-}" ]; then
  cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DCROSSMOVE_TESTS=OFF >/dev/null
  cmake --build build-bench -j2 --target delta_pass >/dev/null
fi
delta=$PWD/${BUILD:-build-bench}/delta_pass
root=$(mktemp -d /dev/shm/crossmove-bench-incremental-XXXXXX)
src_port=$((30000 + RANDOM % 10000)) dst_port=$((40000 + RANDOM % 10000))
cleanup() {
  scripts/dovecot-server stop "$root/dovecot-source" || true
  scripts/dovecot-server stop "$root/dovecot-target" || true
  rm -rf "$root"
}
trap cleanup EXIT
printf 'masterpass\n' > "$root/secret" && chmod 600 "$root/secret"

measure() {  # command... -> seconds
  /usr/bin/time -f "%e" -o "$root/time" "$@" >"$root/out" 2>&1 || {
    echo "failed: $*" >&2; cat "$root/out" >&2; exit 1; }
  cat "$root/time"
}

python3 examples/generate_org.py "$root/org" --mailboxes 1 --messages "$msgs" --lab-corpus >/dev/null
user=$(ls "$root/org/source-mail/fabrikam.test")
suser=$user@fabrikam.test
cp -a "$root/org/source-mail" "$root/pristine"
start_source() {
  rm -rf "$root/source-mail"; cp -a "$root/pristine" "$root/source-mail"
  scripts/dovecot-server start "$root/dovecot-source" "$src_port" --mail "$root/source-mail" >/dev/null
  doveadm -c "$root/dovecot-source/dovecot.conf" index -u "$suser" '*' >/dev/null
}
state() {  # port user -> its state by Message-ID
  python3 tests/imap/mailbox_state.py --message-ids imap "127.0.0.1:$1" "$root/secret" "$2"
}
write_mbsyncrc "$root/mbsyncrc" "$src_port" "$suser" "$dst_port" mbsync@contoso.test \
  "$root/secret" "$root/mbsync-state" "Remove Near" "Expunge Near"
write_doveadm_conf "$root/doveadm.conf" "$root/dovecot-target/dovecot.conf" "$src_port" "$suser"
cm=("$delta" "$root/journal.db" "imap://$suser@127.0.0.1:$src_port/"
  "imap://cm%40contoso.test@127.0.0.1:$dst_port/" "$root/secret")
mbs=(mbsync -c "$root/mbsyncrc" -a -q)
dab=(doveadm -c "$root/doveadm.conf" backup -R -u doveadm@contoso.test imapc:)

declare -A idle busy check
for i in $(seq "$runs"); do
  scripts/dovecot-server stop "$root/dovecot-source" || true
  scripts/dovecot-server stop "$root/dovecot-target" || true
  rm -rf "$root/target-mail" "$root/mbsync-state" "$root"/journal.db*
  mkdir -p "$root/mbsync-state" "$root/target-mail"
  start_source
  scripts/dovecot-server start "$root/dovecot-target" "$dst_port" --mail "$root/target-mail" >/dev/null
  measure "${cm[@]}" init >/dev/null; measure "${mbs[@]}" >/dev/null  # the initial sync,
  measure "${dab[@]}" >/dev/null                                       # not counted
  idle[cm]+="$(measure "${cm[@]}" sync) "; idle[mbsync]+="$(measure "${mbs[@]}") "
  idle[doveadm]+="$(measure "${dab[@]}") "
  python3 bench/incremental_changes.py "127.0.0.1:$src_port" "$root/secret" "$suser" "$msgs" "$i" \
    "$root/changes.json"
  busy[cm]+="$(measure "${cm[@]}" sync) "; busy[mbsync]+="$(measure "${mbs[@]}") "
  busy[doveadm]+="$(measure "${dab[@]}") "
  state "$src_port" "$suser" > "$root/source.state"
  for tool in cm mbsync doveadm; do
    target_user=$tool@contoso.test
    state "$dst_port" "$target_user" > "$root/$tool.state"
    check[$tool]=$(python3 bench/incremental_check.py "$root/source.state" "$root/$tool.state" \
      "$root/changes.json")
  done
done
med() { tr ' ' '\n' <<<"$1" | grep . | median; }
printf '\nIMAP -> IMAP delta pass, one mailbox of %s messages (median of %s runs; carried: of the last run)\n' "$msgs" "$runs"
printf '%-22s %10s %10s %9s %9s %9s %7s %8s %11s %7s\n' "" "unchanged" "changed" "new" "flags" \
  "expunged" "moved" "renamed" "duplicates" "differ"
for tool in cm mbsync doveadm; do
  read -r n f e mv rn dup diff <<<"${check[$tool]}"
  label=$tool; [ "$tool" = cm ] && label="crossmove delta pass"
  [ "$tool" = doveadm ] && label="doveadm backup -R"
  printf '%-22s %9ss %9ss %9s %9s %9s %7s %8s %11s %7s\n' "$label" "$(med "${idle[$tool]}")" \
    "$(med "${busy[$tool]}")" "$n" "$f" "$e" "$mv" "$rn" "$dup" "$diff"
done
