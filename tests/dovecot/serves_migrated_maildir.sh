#!/usr/bin/env bash
# A real Dovecot pointed at the Maildir tree crossmove wrote serves every message byte for byte
# with its flags, keywords and INTERNALDATE, in the mapped folders, with the subscriptions.
#   serves_migrated_maildir.sh CROSSMOVE EXAMPLES_DIR
set -euo pipefail
crossmove=$1 examples=$2
if [ "$(id -u)" != 0 ] || ! command -v dovecot >/dev/null; then
  echo "skipped: needs root and dovecot (scripts/install-deps installs it)"; exit 77
fi
id vmail >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin vmail
work=$(mktemp -d /tmp/crossmove-dovecot-XXXXXX)
chmod 755 "$work"  # Dovecot's auth and mail processes do not run as root
port=$((20000 + RANDOM % 20000))
cleanup() { [ -s "$work/run/master.pid" ] && kill "$(cat "$work/run/master.pid")" 2>/dev/null; sleep 0.2; rm -rf "$work"; }
trap cleanup EXIT
python3 "$examples/generate_org.py" "$work/org" --mailboxes 3 --messages 150 >/dev/null
(cd "$work/org" && "$crossmove" run >/dev/null)
mkdir -p "$work/run" "$work/state"
cp -a "$work/org/target-mail" "$work/mail" && chown -R vmail:vmail "$work/mail"
users="alice.adams bob.al-farsi zoe.muller"
for u in $users; do echo "$u@contoso.test:{PLAIN}pw::::::"; done > "$work/users"
uid=$(id -u vmail) gid=$(id -g vmail)
cat > "$work/dovecot.conf" <<CONF
instance_name = crossmove-test-$port
base_dir = $work/run
state_dir = $work/state
log_path = $work/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = $uid
last_valid_uid = $uid
mail_location = maildir:~
mail_fsync = never
auth_failure_delay = 0
namespace inbox {
  inbox = yes
  separator = /
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $work/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $work/users
  default_fields = uid=$uid gid=$gid home=$work/mail/%d/%n
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
    port = 0
  }
}
CONF
dovecot -c "$work/dovecot.conf"
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
python3 "$(dirname "$0")/compare_over_imap.py" "$work/org" "$port" $users
if grep -iE "error|corrupt" "$work/dovecot.log"; then echo "Dovecot logged errors"; exit 1; fi
