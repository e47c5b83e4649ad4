#!/usr/bin/env bash
# Benchmark (not a test): the same move with its journal in SQLite and in PostgreSQL, and with 1,
# 2 and 4 workers sharing the PostgreSQL journal (issue 14), in the same run, median of N
# (default 3), peak RSS of the largest worker, and the peer: ldapmodify of the same
# `plan --ldif` (the directory writes alone).
#   bench/workers.sh [runs] [mailboxes] [messages per mailbox]   (default 3, 2000, 2)
# Both directories are fresh OpenLDAP servers for each measurement (scripts/ldap-server), the
# mail is Maildir on tmpfs, the journal server is scripts/pg-server (no fsync, as the tests).
# Every worker runs `run --parallel 4` on this host: the workers share its cores, so what more
# workers add here is only what a run leaves idle (waiting on the servers).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
runs=${1:-3}
n=${2:-2000}
per=${3:-2}
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -q time >/dev/null; }
scripts/install-deps >/dev/null
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target crossmove >/dev/null
bin=$PWD/build/crossmove
root=$([ -d /dev/shm ] && echo /dev/shm || echo /tmp)
work=$(mktemp -d "$root/crossmove-workers-bench-XXXXXX")
chmod 755 "$work"
cleanup() {
  for d in "$work"/ldap-*; do [ -d "$d" ] && scripts/ldap-server kill "$d"; done
  scripts/pg-server kill "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT
python3 examples/generate_org.py "$work/pristine" --mailboxes "$n" --messages $((n * per)) \
  --cleanup CreateSourceContact >/dev/null
printf 'secret\n' > "$work/pristine/directory.secret"; chmod 600 "$work/pristine/directory.secret"
printf 'secret\n' > "$work/pristine/journal.secret"; chmod 600 "$work/pristine/journal.secret"
printf 'secret' > "$work/password.raw"
pgport=$(free_port)
scripts/pg-server start "$work/pg" "$pgport" >/dev/null
db=0
fresh() {  # journal: sqlite | postgresql
  fresh_ldap_org  # bench/lib.sh
  if [ "$1" = postgresql ]; then
    db=$((db + 1))
    scripts/pg-server psql "$work/pg" -qAt -c "CREATE DATABASE j$db" >/dev/null
    sed -i -e "s|^journal = .*|journal = \"postgresql://crossmove@127.0.0.1:$pgport/j$db\"\njournal-credential = \"file:journal.secret\"|" \
      "$work/org/crossmove.toml"
  fi
}
workers() {  # count -> "seconds peak_rss_kb": all started at once, timed until the last ends
  local count=$1 start end i rss=0 m
  start=$(date +%s.%N)
  for i in $(seq "$count"); do
    (cd "$work/org" && /usr/bin/time -f "%M" -o "$work/rss.$i" "$bin" run --parallel 4 >"$work/out.$i" 2>&1) &
  done
  if ! wait; then cat "$work"/out.* >&2; exit 1; fi
  end=$(date +%s.%N)
  for i in $(seq "$count"); do m=$(cat "$work/rss.$i"); [ "$m" -gt "$rss" ] && rss=$m; done
  grep -Eq "routing-verified +$n\b" <(cd "$work/org" && "$bin" status) || { echo "not all moved" >&2; exit 1; }
  echo "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }') $rss"
}
declare -A t m
for i in $(seq "$runs"); do
  fresh sqlite; read -r a b < <(workers 1); t[sqlite]+="$a "; m[sqlite]+="$b "
  for w in 1 2 4; do
    fresh postgresql; read -r a b < <(workers "$w"); t[pg$w]+="$a "; m[pg$w]+="$b "
  done
  fresh sqlite
  (cd "$work/org" && "$bin" plan --ldif plan >/dev/null)
  start=$(date +%s.%N)
  ldapmodify -x -c -H "ldap://127.0.0.1:$tport" -D CN=crossmove,DC=contoso,DC=test -y "$work/password.raw" -f "$work/org/plan.target.ldif" >/dev/null
  ldapmodify -x -c -H "ldap://127.0.0.1:$sport" -D CN=crossmove,DC=fabrikam,DC=test -y "$work/password.raw" -f "$work/org/plan.source.ldif" >/dev/null
  end=$(date +%s.%N)
  t[ldapmodify]+="$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }') "
done
med() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
peer=$(echo "${t[ldapmodify]}" | med)
printf '\n%-44s %9s %13s %15s %10s\n' "OpenLDAP + Maildir, $n mailboxes x $per messages" "median s" "mailboxes/s" "ratio to peer" "peak RSS"
for k in sqlite pg1 pg2 pg4; do
  case $k in
    sqlite) label="SQLite journal, 1 run" ;;
    pg1) label="PostgreSQL journal, 1 worker" ;;
    pg2) label="PostgreSQL journal, 2 workers" ;;
    pg4) label="PostgreSQL journal, 4 workers" ;;
  esac
  s=$(echo "${t[$k]}" | med); r=$(echo "${m[$k]}" | med)
  printf '%-44s %9s %13.0f %15.2f %7d MB\n' "$label" "$s" "$(awk -v a="$n" -v b="$s" 'BEGIN{print a/b}')" \
    "$(awk -v a="$s" -v b="$peer" 'BEGIN{print a/b}')" $((r / 1024))
done
printf '%-44s %9s %13.0f %15s %10s\n' "ldapmodify of plan --ldif (writes only)" "$peer" "$(awk -v a="$n" -v b="$peer" 'BEGIN{print a/b}')" "1.00" "-"
