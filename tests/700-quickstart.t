#!/bin/bash
# ./quickstart run by an ordinary user (a throwaway user when the suite
# runs as root) with PATH=/usr/bin:/bin and no sudo: it builds, makes an
# instance, delivers, and its output ends with the delivered message.
# Without the build tools it names the packages and the apt-get line for
# root, and builds nothing. It works on a copy of the tree that the user
# owns; the machine's mail setup is never touched.
. "$(dirname "$0")/lib.sh"

case ${MM_BUILD:-build} in
  *asan*) skip_all "quickstart builds its own programs; it runs in the plain suite" ;;
esac
[ -x "$BUILD/mm-send" ] || skip_all "no build in $BUILD"
plan 14

qs=$T/qs
mkdir -p "$qs/src-tree"
# the tree as it is, with the build's files and their times, so that make
# only rebuilds what changed since
cp -a "$TOP/Makefile" "$TOP/conf-home" "$TOP/conf-users" "$TOP/install.sh" \
  "$TOP/quickstart" "$TOP/src" "$qs/src-tree/"
cp -a "$BUILD" "$qs/src-tree/build"

user=""
if is_root; then
  has_cmd useradd && has_cmd userdel || bail "useradd is needed as root"
  user=mmqs$$
  getent passwd "$user" >/dev/null && userdel "$user" >/dev/null 2>&1
  useradd -U -M -d "$qs" -s /bin/sh "$user" || bail "useradd $user failed"
  cleanup_user() {
    local p u
    u=$(id -u "$user" 2>/dev/null) || return 0
    for p in /proc/[0-9]*; do
      [ "$(awk '/^Uid:/ { print $2; exit }' "$p/status" 2>/dev/null)" = "$u" ] && kill -9 "${p#/proc/}" 2>/dev/null
    done
    sleep 0.1
    userdel "$user" >/dev/null 2>&1
    getent group "$user" >/dev/null && groupdel "$user" >/dev/null 2>&1
    return 0
  }
  at_exit cleanup_user
  chown -R "$user:$user" "$qs"
fi
as_caller() {  # CMD...: as the ordinary user, a login's environment
  if [ -n "$user" ]; then
    setpriv --reuid="$user" --regid="$user" --init-groups \
      env -i PATH="$1" HOME="$qs" USER="$user" LOGNAME="$user" "${@:2}"
  else
    env -i PATH="$1" HOME="$HOME" USER="$(id -un)" LOGNAME="$(id -un)" "${@:2}"
  fi
}
stop_demo() {
  [ -f "$qs/demo/run.pid" ] && kill "$(cat "$qs/demo/run.pid")" 2>/dev/null
  return 0
}
at_exit stop_demo

# the machine's mail setup, to see that quickstart leaves it alone
mailsetup() {
  local f
  for f in /usr/sbin/sendmail /usr/lib/sendmail /usr/bin/mailq /etc/aliases /var/mail /var/mm; do
    stat -c '%n %i %Y %s' "$f" 2>/dev/null || echo "$f absent"
  done
  ls -la /var/mail 2>/dev/null
}
before=$(mailsetup)

# without the build tools: a PATH with only what quickstart needs before its check
mkdir -p "$qs/nocc"
for c in dirname id; do ln -s "$(command -v $c)" "$qs/nocc/$c"; done
out=$(as_caller "$qs/nocc" /bin/sh "$qs/src-tree/quickstart" --build "$qs/nobuild" "$qs/demo-none" 2>&1)
is "$?" 69 "without a compiler quickstart exits 69"
like "$out" '^quickstart: as root, run:  apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev make binutils' \
  "it prints the apt-get line for root, with the missing packages"
unlike "$out" 'sudo' "and assumes no sudo"
ok '[ ! -e "$qs/nobuild" ] && [ ! -e "$qs/demo-none" ]' "it built and installed nothing"

# with everything: PATH has no /usr/sbin, /sbin or sudo
out=$(as_caller /usr/bin:/bin /bin/sh "$qs/src-tree/quickstart" "$qs/demo" 2>&1)
st=$?
is "$st" 0 "quickstart as an ordinary user exits 0" || diag "$out"
unlike "$out" 'sudo|not found|missing' "it needs no sudo and misses nothing"
like "$out" '^== delivered to .*/demo/home/[^/]*/Maildir/new:$' "it shows the delivered message"
is "$(printf '%s\n' "$out" | tail -n 1)" "This message went through the queue." \
  "its output ends with the delivered message's body"
like "$(printf '%s\n' "$out" | sed -n '/^== delivered to/,$p')" '^Subject: hello from mm$' \
  "the header of the delivered message is in that last part"
ok '[ "$(stat -c %U "$qs/demo/queue/mess")" = "$(stat -c %U "$qs")" ]' "the instance belongs to the user"
ok '_alive "$(cat "$qs/demo/run.pid")"' "its queue runner runs"

# a second run in the same directory replaces the first runner
old=$(cat "$qs/demo/run.pid")
out=$(as_caller /usr/bin:/bin /bin/sh "$qs/src-tree/quickstart" "$qs/demo" 2>&1)
st=$?
ok '[ $st = 0 ] && ! _alive "$old"' "a second quickstart in the same place stops the first runner and succeeds" || diag "$out"

is "$(mailsetup)" "$before" "the machine's sendmail, aliases, /var/mail and /var/mm are as they were"

# tests/deps as the same user finds commands outside its PATH's /usr/bin:/bin
if [ -x /usr/sbin/dnsmasq ] || [ -x /sbin/dnsmasq ]; then
  cp -a "$TOP/tests/deps" "$qs/deps" && { [ -z "$user" ] || chown "$user" "$qs/deps"; }
  out=$(as_caller /usr/bin:/bin /bin/bash "$qs/deps" 2>&1)
  unlike "$out" 'dnsmasq-base' "tests/deps as an ordinary user finds dnsmasq in /usr/sbin"
else
  skip 1 "dnsmasq is not installed"
fi
