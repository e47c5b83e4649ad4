# What the benchmarks share (sourced, not run): installing their peers, the median, and the
# configurations of the peers that read one Dovecot and write the other (mbsync, doveadm backup
# with imapc), so that every benchmark runs them the same way.

bench_install() {  # package... : installs the ones missing (a benchmark runs its own peers)
  local need=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
  done
  if [ ${#need[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -q "${need[@]}" >/dev/null
  fi
}

# Sets $bin: $CROSSMOVE when set (an existing binary), else a Release build in build-bench.
bench_binary() {
  if [ -n "${CROSSMOVE:-}" ]; then
    bin=$(cd "$(dirname "$CROSSMOVE")" && pwd)/$(basename "$CROSSMOVE")
  else
    cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DCROSSMOVE_TESTS=OFF >/dev/null
    cmake --build build-bench -j2 --target crossmove >/dev/null
    bin=$PWD/build-bench/crossmove
  fi
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# file src_port src_user dst_port dst_user secret_file state_dir [channel line...]: an mbsync
# pull from src_user to dst_user, both logged into as the Dovecot master user "migrator",
# pipelined, arrival dates kept; the channel lines say what else it carries (Expunge, Remove).
write_mbsyncrc() {
  local file=$1 src_port=$2 src_user=$3 dst_port=$4 dst_user=$5 secret=$6 state=$7
  shift 7
  {
    local side port user
    for side in src dst; do
      [ "$side" = src ] && port=$src_port user=$src_user || port=$dst_port user=$dst_user
      printf 'IMAPAccount %s\nHost 127.0.0.1\nPort %s\nUser %s*migrator\nPassCmd "cat %s"\n' \
        "$side" "$port" "$user" "$secret"
      printf 'SSLType None\nAuthMechs LOGIN\nPipelineDepth 50\n\nIMAPStore %s\nAccount %s\n\n' \
        "$side" "$side"
    done
    printf 'Channel migrate\nFar :src:\nNear :dst:\nPatterns *\nCreate Near\nSync Pull\n'
    local line
    for line in "$@"; do printf '%s\n' "$line"; done
    printf 'CopyArrivalDate yes\nSyncState %s/\n' "$state"
  } > "$file"
}

# file target_dovecot_conf src_port src_user: doveadm backup -R pulling src_user over IMAP
# (imapc, as the master user with password "masterpass") into the target's own storage.
write_doveadm_conf() {
  cat > "$1" <<CONF
!include $2
imapc_host = 127.0.0.1
imapc_port = $3
imapc_user = $4
imapc_master_user = migrator
imapc_password = masterpass
imapc_features = rfc822.size fetch-headers
mail_prefetch_count = 20
CONF
}

# name: $root (a new folder on tmpfs), $src_port / $dst_port (free ports for two Dovecots) and
# $root/secret (their master user's password); on exit both servers are killed, $root removed.
dovecot_pair_root() {
  root=$(mktemp -d "/dev/shm/crossmove-bench-$1-XXXXXX")
  src_port=$(free_port) dst_port=$(free_port)
  trap 'scripts/dovecot-server kill "$root/dovecot-source" || true
        scripts/dovecot-server kill "$root/dovecot-target" || true
        rm -rf "$root"' EXIT
  printf 'masterpass\n' > "$root/secret" && chmod 600 "$root/secret"
}

# org secret src_port dst_port: points a generate_org.py organization's two databases at the two
# Dovecots (imap://, the master user "migrator" with the password in `secret`).
imap_stores() {
  cp "$2" "$1/imap.secret"
  python3 - "$1/crossmove.toml" "$3" "$4" <<'PY'
import sys
path, src, dst = sys.argv[1:]
t = open(path).read()
login = '\nadmin = "migrator"\ncredential = "file:imap.secret"'
t = t.replace('store = "maildir:source-mail/%d/%n"', f'store = "imap://%u@127.0.0.1:{src}/"' + login)
t = t.replace('store = "maildir:target-mail/%d/%n"', f'store = "imap://%u@127.0.0.1:{dst}/"' + login)
open(path, "w").write(t)
PY
}

# events_file: the copy step of the last run, from its event log (provisioned -> copied), in s.
copy_seconds() {
  python3 - "$1" <<'PY'
import datetime, json, sys
t = lambda s: datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
at = {}
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] == "state":
        at.setdefault(e["state"], []).append(t(e["time"]))
print(f"{max(at['content-copied']) - min(at['target-provisioned']):.3f}")
PY
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# work: $work/org becomes a fresh copy of $work/pristine (a generate_org.py organization) whose
# two directories are new slapd servers (scripts/ldap-server) loaded from its LDIF files, on
# ports $sport / $tport, its crossmove.toml pointing at them (directory.secret: "secret").
fresh_ldap_org() {
  local d
  for d in "$work"/ldap-*; do [ -d "$d" ] && scripts/ldap-server kill "$d" && rm -rf "$d"; done
  rm -rf "$work/org"; cp -a "$work/pristine" "$work/org"
  sport=$(free_port); tport=$(free_port)
  scripts/ldap-server start "$work/ldap-source" "$sport" "$work/org/source.ldif"
  scripts/ldap-server start "$work/ldap-target" "$tport" "$work/org/target.ldif"
  sed -i -e "s|gc = \"ldif:source.ldif\"|gc = \"ldap://127.0.0.1:$sport\"\nbind = \"CN=crossmove,DC=fabrikam,DC=test\"\ncredential = \"file:directory.secret\"|" \
    -e "s|gc = \"ldif:target.ldif\"|gc = \"ldap://127.0.0.1:$tport\"\nbind = \"CN=crossmove,DC=contoso,DC=test\"\ncredential = \"file:directory.secret\"|" \
    "$work/org/crossmove.toml"
}
