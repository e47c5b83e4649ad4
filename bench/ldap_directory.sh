#!/usr/bin/env bash
# Benchmark (not a test): the directory phase of a move against OpenLDAP, crossmove vs
# `ldapmodify` applying the same changes, in the same run, median of N (default 3), peak RSS.
#   bench/ldap_directory.sh [runs] [mailboxes]      (default 3 runs, 10,000 mailboxes)
# Each run starts both slapd servers fresh from the same LDIF (scripts/ldap-server: MDB without
# fsync, as in the tests). crossmove's time is a whole `run` with CreateSourceContact on empty
# INBOX-only mailboxes, so that the directory phase dominates: pre-validation, journal,
# snapshot, provisioning, (empty) copy and verify, cleanup, routing check. The peer applies `crossmove plan --ldif` (provision + cleanup, what crossmove
# writes) with one ldapmodify per directory: no reads, no checks, no journal.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
runs=${1:-3}
n=${2:-10000}
export DEBIAN_FRONTEND=noninteractive
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -q time >/dev/null; }
scripts/install-deps >/dev/null
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target crossmove >/dev/null
bin=$PWD/build/crossmove
root=$([ -d /dev/shm ] && echo /dev/shm || echo /tmp)
work=$(mktemp -d "$root/crossmove-ldap-bench-XXXXXX")
cleanup() {
  for d in "$work"/ldap-*; do [ -d "$d" ] && scripts/ldap-server kill "$d"; done
  rm -rf "$work"
}
trap cleanup EXIT
python3 examples/generate_org.py "$work/pristine" --mailboxes "$n" --messages 0 --inbox-only \
  --cleanup CreateSourceContact >/dev/null
printf 'secret\n' > "$work/pristine/directory.secret"; chmod 600 "$work/pristine/directory.secret"
printf 'secret' > "$work/password.raw"

measure() {  # command... -> "seconds rss_kb"
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>&1 || { cat "$work/out" >&2; exit 1; }
  cat "$work/time"
}

declare -a cm_t cm_m lm_t lm_m pl_t
for i in $(seq "$runs"); do
  fresh_ldap_org
  read -r t m < <(cd "$work/org" && measure "$bin" run)
  cm_t+=("$t"); cm_m+=("$m")
  fresh_ldap_org
  read -r t _ < <(cd "$work/org" && measure "$bin" plan --ldif plan)
  pl_t+=("$t")
  read -r t m < <(cd "$work/org" && measure sh -c "
    ldapmodify -x -c -H ldap://127.0.0.1:$tport -D CN=crossmove,DC=contoso,DC=test -y '$work/password.raw' -f plan.target.ldif &&
    ldapmodify -x -c -H ldap://127.0.0.1:$sport -D CN=crossmove,DC=fabrikam,DC=test -y '$work/password.raw' -f plan.source.ldif")
  lm_t+=("$t"); lm_m+=("$m")
done
cmt=$(printf '%s\n' "${cm_t[@]}" | median); cmm=$(printf '%s\n' "${cm_m[@]}" | median)
lmt=$(printf '%s\n' "${lm_t[@]}" | median); lmm=$(printf '%s\n' "${lm_m[@]}" | median)
plt=$(printf '%s\n' "${pl_t[@]}" | median)
ops=$(grep -c '^changetype:' "$work/org/plan.target.ldif" "$work/org/plan.source.ldif" | awk -F: '{s+=$2} END {print s}')

div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
printf '\n%-46s %9s %9s %14s %9s\n' "OpenLDAP, $n mailboxes, $ops directory writes" "median s" "ops/s" "ratio to peer" "peak RSS"
printf '%-46s %9s %9.0f %14.2f %6d MB\n' "crossmove run (whole move, empty INBOX only)" "$cmt" "$(div "$ops" "$cmt")" "$(div "$cmt" "$lmt")" $((cmm / 1024))
printf '%-46s %9s %9.0f %14.2f %6d MB\n' "ldapmodify of plan --ldif (writes only)" "$lmt" "$(div "$ops" "$lmt")" 1 $((lmm / 1024))
printf '%-46s %9s\n' "crossmove plan --ldif (reads + validation)" "$plt"
