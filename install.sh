#!/bin/sh
# install.sh: install mm.
#   install.sh --instance DIR [--build BUILDDIR]
#       a private instance for the calling user: no setuid, everything
#       owned by the caller, programs found through MM_HOME=DIR.
# A privileged install (as root, into conf-home, with the users of
# conf-users) is described in README; this script refuses it until the
# privileged layout is in place rather than install something half-safe.
set -eu

top=$(cd "$(dirname "$0")" && pwd)
build="$top/build"
instance=""

usage() {
  echo "usage: install.sh --instance DIR [--build BUILDDIR]" >&2
  exit 64
}

while [ $# -gt 0 ]; do
  case "$1" in
    --instance) [ $# -ge 2 ] || usage; instance=$2; shift 2 ;;
    --build) [ $# -ge 2 ] || usage; build=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "install.sh: unknown option: $1" >&2; usage ;;
  esac
done

[ -n "$instance" ] || { echo "install.sh: only --instance DIR is supported so far" >&2; exit 64; }
case "$build" in /*) ;; *) build="$(pwd)/$build" ;; esac

for p in mm-queue mm-inject mm-send mm-start mm-lspawn mm-local sendmail; do
  [ -x "$build/$p" ] || { echo "install.sh: $build/$p is missing: run make first" >&2; exit 78; }
done

mkdir -p "$instance"
dir=$(cd "$instance" && pwd)
owner=$(id -un)
host=$(hostname -f 2>/dev/null || hostname)
[ -n "$host" ] || host=localhost

umask 022
mkdir -p "$dir/bin" "$dir/control" "$dir/home/$owner" "$dir/mail"
for f in "$build"/mm-* "$build/sendmail"; do
  p=${f##*/}
  [ -f "$f" ] && [ -x "$f" ] || continue
  # copy to a temporary name and rename: an upgrade never runs half a binary
  cp "$build/$p" "$dir/bin/.$p.new" && mv -f "$dir/bin/.$p.new" "$dir/bin/$p"
done
for alias in mailq mailrm runq newaliases; do
  ln -sf sendmail "$dir/bin/$alias"
done

# control files: write defaults only where the file is absent (upgrades keep them)
put() { [ -e "$dir/control/$1" ] || printf '%s\n' "$2" > "$dir/control/$1"; }
put instance "$owner"
put me "$host"
put defaultdomain "$host"
put locals "localhost
$host"
put delivery "* maildir ~/Maildir/"
put aliases "# mm-aliases(5): name: target, target
postmaster: $owner
root: $owner
MAILER-DAEMON: postmaster"

umask 077
for d in queue queue/tmp queue/mess queue/todo queue/lock queue/online; do
  mkdir -p "$dir/$d"
done
[ -p "$dir/queue/lock/trigger" ] || mkfifo -m 0600 "$dir/queue/lock/trigger"
[ -e "$dir/queue/lock/send" ] || : > "$dir/queue/lock/send"

echo "mm private instance in $dir (owner $owner)"
echo "use it with: export MM_HOME=$dir"
