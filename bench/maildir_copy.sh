#!/usr/bin/env bash
# Benchmark (not a test): the embedded move against `cp -a` of the same Maildir tree, in the same
# run, median of N (default 3), plus peak RSS; and one 100 MB message (memory must stay bounded).
#   bench/maildir_copy.sh [runs]
# crossmove's time is a whole `run` (snapshot, directory writes, copy, verify, cleanup, routing),
# not just the copy, so the ratio to cp -a is an upper bound on the copy's own cost.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
if ! command -v /usr/bin/time >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -q time >/dev/null
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target crossmove >/dev/null
bin=$PWD/build/crossmove
work=$(mktemp -d /tmp/crossmove-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 examples/generate_org.py "$work/pristine" --mailboxes 60 --messages 6000 >/dev/null
msgs=6000
mb=$(du -sm "$work/pristine/source-mail" | cut -f1)

measure() {  # label command... -> "seconds rss_kb"
  sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>&1
  cat "$work/time"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -a cm_t cm_m cp_t cp_m cs_t
for i in $(seq "$runs"); do
  rm -rf "$work/org"; cp -a "$work/pristine" "$work/org"
  read -r t m < <(measure "$bin" --config "$work/org/crossmove.toml" run ${CROSSMOVE_ARGS:-})
  cm_t+=("$t"); cm_m+=("$m")
  rm -rf "$work/copy"
  read -r t m < <(measure cp -a "$work/org/source-mail" "$work/copy")
  cp_t+=("$t"); cp_m+=("$m")
  rm -rf "$work/copy"
  read -r t m < <(measure sh -c "cp -a '$work/org/source-mail' '$work/copy' && sync")
  cs_t+=("$t")
done
cmt=$(printf '%s\n' "${cm_t[@]}" | median); cmm=$(printf '%s\n' "${cm_m[@]}" | median)
cpt=$(printf '%s\n' "${cp_t[@]}" | median); cpm=$(printf '%s\n' "${cp_m[@]}" | median)
cst=$(printf '%s\n' "${cs_t[@]}" | median)

# One 100 MB message: peak RSS must not grow with the message.
rm -rf "$work/big"; python3 examples/generate_org.py "$work/big" --mailboxes 1 --messages 1 >/dev/null
inbox=$(ls -d "$work"/big/source-mail/fabrikam.test/*)/cur
python3 - "$inbox" <<'PY'
import os, sys
path = os.path.join(sys.argv[1], "1700000000.M1P1.big,S=104857600:2,S")
with open(path, "wb") as f:
    f.write(b"Message-ID: <big@bench>\r\nSubject: 100 MB\r\n\r\n")
    line = b"x" * 998 + b"\r\n"
    while f.tell() + len(line) <= 100 * 1024 * 1024:
        f.write(line)
os.utime(path, (1700000000, 1700000000))
PY
read -r bt bm < <(measure "$bin" --config "$work/big/crossmove.toml" run)

printf '\n%-34s %10s %10s %12s %10s\n' "maildir -> maildir, $msgs msgs, ${mb} MB" "median s" "msg/s" "ratio to cp" "peak RSS"
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
printf '%-34s %10s %10.0f %12.2f %8d MB\n' "crossmove run (whole move)" "$cmt" "$(div "$msgs" "$cmt")" "$(div "$cmt" "$cpt")" $((cmm / 1024))
printf '%-34s %10s %10.0f %12.2f %8d MB\n' "cp -a (same tree)" "$cpt" "$(div "$msgs" "$cpt")" 1 $((cpm / 1024))
printf '%-34s %10s %10.0f %12.2f %11s\n' "cp -a + sync (same durability)" "$cst" "$(div "$msgs" "$cst")" "$(div "$cst" "$cpt")" "-"
printf '%-34s %10s %10s %12.2f\n' "crossmove run / (cp -a + sync)" "" "" "$(div "$cmt" "$cst")"
printf '%-34s %10s %10s %12s %8d MB\n' "crossmove run, one 100 MB message" "$bt" "-" "-" $((bm / 1024))
