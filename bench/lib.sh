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
