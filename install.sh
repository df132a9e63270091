#!/bin/sh
# install.sh: install mm.
#   install.sh --instance DIR [--build BUILDDIR]
#       a private instance for the calling user: no setuid, everything
#       owned by the caller, programs found through MM_HOME=DIR.
#   install.sh [OPTION...]                        (as root)
#       mm as the system MTA: the users and groups of conf-users, the
#       programs in conf-home with the owners and modes README.install
#       lists, default control files from the host's name, the service
#       directories, the man pages; the sendmail links and the services
#       only on request. A second run upgrades in place and keeps the
#       queue and the control files. Options:
#   --home DIR          install root other than conf-home: the programs
#                       are built for it (make B=... CONF_HOME=DIR)
#   --users FILE        user and group names other than conf-users (the
#                       same nine lines; also built into the programs)
#   --build BUILDDIR    where the programs are built (default build/, or
#                       build-home-N for another home or other users)
#   --root PREFIX       the system's files (links, man pages, services)
#                       go under PREFIX instead of /
#   --mandir DIR        man pages (default PREFIX/usr/local/share/man)
#   --admin USER        who reads postmaster's (and so root's) mail: a
#                       new control/aliases says "postmaster: USER"
#   --links             /usr/sbin/sendmail, /usr/lib/sendmail and
#                       /usr/bin/{mailq,runq,mailrm,newaliases} -> mm
#   --force-links       replace another MTA's files there (each is kept
#                       as NAME.mm-saved and named in the output)
#   --services daemontools|systemd
#                       link the service directories into PREFIX/etc/service,
#                       or install and start the systemd units
#   --smtp-ip IP --smtp-port PORT --smtp-concurrency N
#                       where mm-smtpd listens (default 0, 25, 20)
#   --smtp-listener tcpserver|mm-smtpd
#                       what listens: tcpserver (default) or mm-smtpd -l
#   --dry-run           print what would be done; change nothing
set -eu

top=$(cd "$(dirname "$0")" && pwd)
build=""
instance=""
home="" usersfile="" prefix="" mandir="" admin=""
links=0 force=0 services="" dry=0 privileged_opts=0
smtp_ip="" smtp_port="" smtp_max="" smtp_listener=""

usage() {
  echo "usage: install.sh --instance DIR [--build BUILDDIR]" >&2
  echo "       install.sh [--home DIR] [--users FILE] [--build BUILDDIR] [--root PREFIX] [--mandir DIR]" >&2
  echo "                  [--admin USER] [--links [--force-links]] [--services daemontools|systemd]" >&2
  echo "                  [--smtp-ip IP] [--smtp-port PORT] [--smtp-concurrency N] [--smtp-listener L] [--dry-run]" >&2
  exit 64
}

help() {
  cat <<'EOH'
usage: install.sh --instance DIR [--build BUILDDIR]    a private instance, any user
       install.sh [OPTION...]                          mm as the system MTA, as root
  --instance DIR         a private instance in DIR for the caller: no setuid, use it with MM_HOME=DIR
  --build BUILDDIR       where the programs are built (default build/, or build-home-N)
  --home DIR             install root other than conf-home (the programs are built for it)
  --users FILE           user and group names other than conf-users (nine lines)
  --root PREFIX          the system's files (links, man pages, services) go under PREFIX
  --mandir DIR           man pages (default PREFIX/usr/local/share/man)
  --admin USER           who reads postmaster's (and so root's) mail
  --links                /usr/sbin/sendmail, /usr/lib/sendmail, /usr/bin/{mailq,runq,mailrm,newaliases} -> mm
  --force-links          like --links, replacing another MTA's files (kept as NAME.mm-saved)
  --services daemontools|systemd   link the services into PREFIX/etc/service, or install and start the units
  --smtp-ip IP           where mm-smtpd listens (default 0: every address)
  --smtp-port PORT       mm-smtpd's port (default 25)
  --smtp-concurrency N   mm-smtpd's connection limit (default 20)
  --smtp-listener L      tcpserver (default) or mm-smtpd (mm-smtpd -l, a fork per connection)
  --dry-run              print what would be done; change nothing
  -h, --help             this text
EOH
  exit 0
}

while [ $# -gt 0 ]; do
  case "$1" in
    --instance) [ $# -ge 2 ] || usage; instance=$2; shift 2 ;;
    --build) [ $# -ge 2 ] || usage; build=$2; shift 2 ;;
    --home) [ $# -ge 2 ] || usage; home=$2; privileged_opts=1; shift 2 ;;
    --users) [ $# -ge 2 ] || usage; usersfile=$2; privileged_opts=1; shift 2 ;;
    --root) [ $# -ge 2 ] || usage; prefix=$2; privileged_opts=1; shift 2 ;;
    --mandir) [ $# -ge 2 ] || usage; mandir=$2; privileged_opts=1; shift 2 ;;
    --admin) [ $# -ge 2 ] || usage; admin=$2; privileged_opts=1; shift 2 ;;
    --links) links=1; privileged_opts=1; shift ;;
    --force-links) links=1; force=1; privileged_opts=1; shift ;;
    --services) [ $# -ge 2 ] || usage; services=$2; privileged_opts=1; shift 2 ;;
    --smtp-ip) [ $# -ge 2 ] || usage; smtp_ip=$2; privileged_opts=1; shift 2 ;;
    --smtp-port) [ $# -ge 2 ] || usage; smtp_port=$2; privileged_opts=1; shift 2 ;;
    --smtp-concurrency) [ $# -ge 2 ] || usage; smtp_max=$2; privileged_opts=1; shift 2 ;;
    --smtp-listener) [ $# -ge 2 ] || usage; smtp_listener=$2; privileged_opts=1; shift 2 ;;
    --dry-run) dry=1; privileged_opts=1; shift ;;
    -h|--help) help ;;
    *) echo "install.sh: unknown option: $1" >&2; usage ;;
  esac
done

# ---------------------------------------------------------------- private instance

if [ -n "$instance" ]; then
  [ "$privileged_opts" = 0 ] || { echo "install.sh: --instance takes only --build" >&2; usage; }
  build=${build:-$top/build}
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
  for d in queue queue/tmp queue/mess queue/todo queue/lock queue/door queue/online queue/flush; do
    mkdir -p "$dir/$d"
  done
  [ -p "$dir/queue/lock/trigger" ] || mkfifo -m 0600 "$dir/queue/lock/trigger"
  [ -e "$dir/queue/lock/send" ] || : > "$dir/queue/lock/send"

  echo "mm private instance in $dir (owner $owner)"
  echo "use it with: export MM_HOME=$dir"
  exit 0
fi

# ---------------------------------------------------------------- the system install

umask 022
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH

die() { code=$1; shift; echo "install.sh: $*" >&2; exit "$code"; }
warn() { echo "install.sh: warning: $*" >&2; }
note() { printf '%s\n' "$*"; }
# do CMD, printing it first under --dry-run (which only prints)
run() {
  if [ "$dry" = 1 ]; then note "  $*"; return 0; fi
  "$@"
}
absolute() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s/%s\n' "$(pwd)" "$1" ;; esac; }

[ "$dry" = 1 ] || [ "$(id -u)" = 0 ] \
  || die 77 "the system install runs as root (--dry-run shows what it would do; --instance DIR needs no root)"

case "$services" in ''|daemontools|systemd) ;; *) die 64 "--services takes daemontools or systemd" ;; esac
case "$smtp_listener" in ''|tcpserver|mm-smtpd) ;; *) die 64 "--smtp-listener takes tcpserver or mm-smtpd" ;; esac

# the names, one role a line (conf-users)
usersfile=$(absolute "${usersfile:-$top/conf-users}")
[ -r "$usersfile" ] || die 78 "cannot read $usersfile"
[ "$(sed -n '1,9p' "$usersfile" | grep -c .)" = 9 ] || die 78 "$usersfile: nine names expected, one a line"
role() { sed -n "${1}p" "$usersfile"; }
u_queue=$(role 1) u_send=$(role 2) u_smtpd=$(role 3) u_remote=$(role 4) u_pop=$(role 5)
u_alias=$(role 6) u_log=$(role 7) g_mm=$(role 8) g_online=$(role 9)
# the tls group (line 10): only mm-tls and the server key have it; an
# older nine-line file gets the default name
g_tls=$(role 10)
[ -n "$g_tls" ] || g_tls=mmtls
for n in "$u_queue" "$u_send" "$u_smtpd" "$u_remote" "$u_pop" "$u_alias" "$u_log" "$g_mm" "$g_online" "$g_tls"; do
  case "$n" in
    ''|-*|*[!a-z0-9_-]*|root) die 78 "$usersfile: not a usable user or group name: '$n'" ;;
  esac
  [ ${#n} -le 32 ] || die 78 "$usersfile: name too long: $n"
done

home=${home:-$(head -n 1 "$top/conf-home")}
case "$home" in /?*) ;; *) die 64 "the home must be an absolute path: $home" ;; esac
home=${home%/}
prefix=${prefix%/}
[ -z "$prefix" ] || prefix=$(absolute "$prefix")
mandir=${mandir:-$prefix/usr/local/share/man}
[ -z "$admin" ] || case "$admin" in -*|*[!A-Za-z0-9._-]*) die 64 "--admin: not a user name: $admin" ;; esac

if [ -z "$build" ]; then
  if [ "$home" = "$(head -n 1 "$top/conf-home")" ] && [ "$usersfile" = "$top/conf-users" ]; then
    build=$top/build
  else
    # programs built for this home and these names only
    build=$top/build-home-$( { printf '%s\n' "$home"; cat "$usersfile"; } | cksum | cut -d' ' -f1)
  fi
fi
build=$(absolute "$build")

[ ! -e "$home/control/instance" ] \
  || die 78 "$home is a private instance (control/instance exists); not turning it into a system install"
for t in "$top/service/mm-send/run" "$top/service/mm-smtpd/run" "$top/service/tcp.smtp"; do
  [ -f "$t" ] || die 78 "$t is missing"
done

# ---- existing accounts are left alone, but must not undo the separation

gid_of_group() { getent group "$1" | cut -d: -f3; }
passwd_field() { getent passwd "$1" | cut -d: -f"$2"; }
nologin=/usr/sbin/nologin
[ -x "$nologin" ] || nologin=/sbin/nologin
[ -x "$nologin" ] || nologin=/bin/false

check_accounts() {
  mmgid=$(gid_of_group "$g_mm")
  for u in "$u_queue" "$u_send" "$u_smtpd" "$u_remote" "$u_pop" "$u_alias" "$u_log"; do
    getent passwd "$u" >/dev/null || continue
    [ "$(passwd_field "$u" 3)" != 0 ] || die 78 "user $u has uid 0"
  done
  if getent passwd "$u_send" >/dev/null && [ -n "$mmgid" ] && [ "$(passwd_field "$u_send" 4)" != "$mmgid" ]; then
    die 78 "user $u_send exists with a primary group other than $g_mm: mm-send could not reach the queue"
  fi
  for u in "$u_smtpd" "$u_remote" "$u_pop" "$u_alias" "$u_log"; do
    getent passwd "$u" >/dev/null || continue
    g=$(passwd_field "$u" 4)
    [ "$g" != 0 ] || die 78 "user $u exists with group 0 (root)"
    [ -z "$mmgid" ] || [ "$g" != "$mmgid" ] || die 78 "user $u exists in group $g_mm: it could read and change the queue"
    for s in $(id -Gn "$u"); do
      [ "$s" != "$g_mm" ] || die 78 "user $u is a member of group $g_mm: it could read and change the queue"
    done
  done
}
check_accounts

# ---- the sendmail links: another MTA's files are replaced only with --force-links

link_list="usr/sbin/sendmail:sendmail usr/lib/sendmail:sendmail usr/bin/mailq:mailq usr/bin/runq:runq usr/bin/mailrm:mailrm usr/bin/newaliases:newaliases"

describe() {
  if [ -L "$1" ]; then
    d="a symlink to $(readlink "$1")"
    r=$(readlink -f "$1" 2>/dev/null || true)
  else
    d="a file"
    r=$1
  fi
  if [ -z "$prefix" ] && [ -n "$r" ] && command -v dpkg >/dev/null 2>&1; then
    pkg=$(dpkg -S "$r" 2>/dev/null | head -n 1 | cut -d: -f1) || pkg=""
    [ -z "$pkg" ] || d="$d, from the package $pkg"
  fi
  printf '%s\n' "$d"
}

foreign_links=""
if [ "$links" = 1 ]; then
  refused=""
  for l in $link_list; do
    path=$prefix/${l%%:*} want=$home/bin/${l#*:}
    if [ -L "$path" ] && [ "$(readlink "$path")" = "$want" ]; then continue; fi
    if [ -e "$path" ] || [ -L "$path" ]; then
      foreign_links="$foreign_links $l"
      refused="$refused
  $path: $(describe "$path")"
    fi
  done
  if [ -n "$refused" ] && [ "$force" = 0 ]; then
    die 73 "these belong to another MTA and were not replaced (--force-links replaces them, keeping each as NAME.mm-saved):$refused
nothing was installed"
  fi
fi

# ---- build for this home and these names

if [ "$dry" = 1 ]; then
  note "would build: make -C $top B=$build CONF_HOME=$home CONF_USERS=$usersfile"
else
  mkdir -p "$build"
  # a build for another home or other names is redone (make cannot see a variable change)
  if [ -f "$build/auto_home.c" ] && ! grep -qF "\"$home\";" "$build/auto_home.c"; then
    rm -f "$build/auto_home.c"
  fi
  if [ -f "$build/auto_users.c" ] && [ "$(sed -n 's/^  "\(.*\)",$/\1/p' "$build/auto_users.c")" != "$(sed -n '1,9p' "$usersfile")" ]; then
    rm -f "$build/auto_users.c"
  fi
  make -s -C "$top" B="$build" CONF_HOME="$home" CONF_USERS="$usersfile" all >&2 \
    || die 75 "the build failed"
fi
[ "$dry" = 1 ] || for p in mm-queue mm-inject mm-send mm-start mm-lspawn mm-local mm-smtpd mm-qctl sendmail; do
  [ -x "$build/$p" ] || die 78 "$build/$p is missing after the build"
done

note "mm system install in $home${prefix:+ (system files under $prefix)}"
[ "$dry" = 0 ] || note "dry run: nothing is changed; this is what would be done"

# ---- groups and users

ensure_group() {
  getent group "$1" >/dev/null && return 0
  note "creating group $1"
  run groupadd --system "$1"
}

# NAME GROUP HOMEDIR ROLE
ensure_user() {
  if getent passwd "$1" >/dev/null; then
    [ "$dry" = 0 ] || note "  user $1 exists: left as it is"
    return 0
  fi
  note "creating user $1 ($4)"
  run useradd --system --no-create-home --home-dir "$3" --shell "$nologin" --gid "$2" --comment "mm $4" "$1"
}

ensure_group "$g_mm"
ensure_group "$g_online"
ensure_group "$g_tls"
# the queue owner and the send user share the queue's group; everyone
# else has a group of their own, which reaches nothing of the queue
ensure_user "$u_queue" "$g_mm" "$home" "queue owner"
ensure_user "$u_send" "$g_mm" "$home" "queue manager"
for pair in "$u_smtpd:SMTP server" "$u_remote:SMTP client" "$u_pop:POP3 client" "$u_alias:alias deliveries" "$u_log:logs"; do
  u=${pair%%:*}
  if ! getent passwd "$u" >/dev/null; then ensure_group "$u"; fi
  h=$home
  [ "$u" != "$u_alias" ] || h=$home/mail
  ensure_user "$u" "$u" "$h" "${pair#*:}"
done

# the primary group of a role's user (a name under --dry-run before it exists)
group_of() {
  g=$(id -g "$1" 2>/dev/null) || g=$1
  printf '%s\n' "$g"
}
gr_remote=$(group_of "$u_remote") gr_alias=$(group_of "$u_alias") gr_log=$(group_of "$u_log")

# ---- owners and modes: each role reaches what it needs and nothing else

# PATH OWNER GROUP MODE: a directory, created if missing, owner and mode
# set again on every run (five digits: GNU chmod keeps a setgid bit of
# a directory unless told otherwise)
dir() {
  [ -d "$1" ] || run mkdir -p "$1"
  run chown "$2:$3" "$1"
  run chmod "$4" "$1"
}

# PATH OWNER GROUP MODE < CONTENT: a file written in full (a temporary
# name, then a rename)
writefile() {
  if [ "$dry" = 1 ]; then cat >/dev/null; note "  write $1 ($2:$3 $4)"; return 0; fi
  cat > "$1.mm-new"
  chown "$2:$3" "$1.mm-new"
  chmod "$4" "$1.mm-new"
  mv -f "$1.mm-new" "$1"
}

# the same, only where the file is absent: control files stay as they are
putfile() {
  if [ -e "$1" ]; then cat >/dev/null; return 0; fi
  note "  new ${1#"$home"/}"
  writefile "$@"
}

# a template of service/ with the names of this install
template() {
  sed -e "s|@HOME@|$home|g" -e "s|@SEND@|$u_send|g" -e "s|@SMTPD@|$u_smtpd|g" \
      -e "s|@LOG@|$u_log|g" -e "s|@POP@|$u_pop|g" "$top/service/$1"
}

# owner group mode of each program (README.install)
prog_mode() {
  case "$1" in
    # setuid the queue owner: the only writer of new messages; the queue lister/remover
    mm-queue|mm-qctl) echo "$u_queue root 04711" ;;
    # setuid and setgid the remote user; only the send user (a member of
    # that group, see privs_become_send) may run it
    mm-remote) echo "$u_remote $gr_remote 06510" ;;
    # the POP3 client: the pop user, for root and the online group
    mm-pop3fetch) echo "$u_pop $g_online 04510" ;;
    # setgid the tls group, for everyone: it reads control/tlskey in
    # server mode and drops the group before the network (mm-tls(8))
    mm-tls) echo "root $g_tls 02755" ;;
    # root only: mm-start (supervise), mm-lspawn (mm-start, mm-send -1 as root)
    mm-start|mm-lspawn) echo "root root 00700" ;;
    # the send user (as mm-start execs it) and root (mm-send -1)
    mm-send) echo "root $g_mm 00750" ;;
    # everyone: sendmail, mm-inject, mm-smtpd (sendmail -bs), mm-local, mm-online,
    # mm-check (reads only, as its caller)
    *) echo "root root 00755" ;;
  esac
}

dir "$home" root root 00755
dir "$home/bin" root root 00755
note "installing the programs into $home/bin"
for f in "$top"/src/mm-*.c "$top"/src/sendmail.c; do
  p=${f##*/}; p=${p%.c}; f=$build/$p
  [ "$dry" = 1 ] || [ -x "$f" ] || continue
  case "$p" in mm-check|mm-queue|mm-qctl|mm-remote|mm-pop3fetch|mm-start|mm-lspawn|mm-send|sendmail|mm-inject|mm-smtpd|mm-local|mm-online|mm-tls) ;;
    *) warn "$p has no rule of its own in install.sh: installed as root:root 0755" ;;
  esac
  set -- $(prog_mode "$p")
  # chown before chmod (chown clears the setuid bit); a rename, so that
  # an upgrade never runs half a binary
  run cp "$f" "$home/bin/.$p.new"
  run chown "$1:$2" "$home/bin/.$p.new"
  run chmod "$3" "$home/bin/.$p.new"
  run mv -f "$home/bin/.$p.new" "$home/bin/$p"
done
for a in mailq runq mailrm newaliases; do
  run ln -sfn sendmail "$home/bin/$a"
done

# ---- control files: written where absent, from the host's name

host=$(hostname -f 2>/dev/null || hostname)
[ -n "$host" ] || host=localhost
dir "$home/control" root root 00755
putfile "$home/control/me" root root 0644 <<EOF
$host
EOF
putfile "$home/control/defaultdomain" root root 0644 <<EOF
$host
EOF
putfile "$home/control/locals" root root 0644 <<EOF
localhost
$host
EOF
if [ -n "$admin" ]; then pm="postmaster: $admin"; else pm="# postmaster: alice"; fi
putfile "$home/control/aliases" root root 0644 <<EOF
# mm-aliases(5): name: target, target
# root gets no mail itself (mm-local never delivers as uid 0): its mail
# goes to postmaster. Name the person who reads it below; without a
# postmaster line postmaster's mail goes to $home/mail/postmaster (mbox).
root: postmaster
MAILER-DAEMON: postmaster
$pm
EOF
template tcp.smtp | putfile "$home/control/tcp.smtp" root root 0644
if command -v tcprules >/dev/null 2>&1; then
  if [ "$dry" = 1 ]; then
    note "  tcprules $home/control/tcp.smtp.cdb $home/control/tcp.smtp.tmp < $home/control/tcp.smtp"
  else
    tcprules "$home/control/tcp.smtp.cdb" "$home/control/tcp.smtp.tmp" < "$home/control/tcp.smtp" \
      || die 78 "tcprules refused $home/control/tcp.smtp"
    chmod 0644 "$home/control/tcp.smtp.cdb"
  fi
else
  warn "tcprules (ucspi-tcp) is not installed: no $home/control/tcp.smtp.cdb for mm-smtpd's service"
fi

# secrets: a route's SMTP AUTH secret for the remote user only, POP3
# secrets (any *secret* file below a pop3 directory) for the pop user only
if [ -d "$home/control" ]; then
  find "$home/control" -type f -path '*/routes/*' -name authsecret | while IFS= read -r s; do
    run chown "$u_remote:root" "$s"; run chmod 0400 "$s"
  done
  find "$home/control" -type f -path '*pop3*' -name '*secret*' | while IFS= read -r s; do
    run chown "$u_pop:root" "$s"; run chmod 0400 "$s"
  done
fi
# the TLS server key: the tls group alone (mm-tls), never the smtpd user
if [ -f "$home/control/tlskey" ] && [ ! -L "$home/control/tlskey" ]; then
  run chown "root:$g_tls" "$home/control/tlskey"; run chmod 0640 "$home/control/tlskey"
fi

# ---- the queue (INTERNALS 3): kept as it is, owners and modes set again

dir "$home/queue" root root 00755
# written by mm-queue (the queue owner), read, appended to and unlinked by
# mm-send (the queue's group); setgid, so that every message file has the
# queue's group whoever ran mm-queue
for d in tmp mess todo; do
  dir "$home/queue/$d" "$u_queue" "$g_mm" 02770
done
dir "$home/queue/lock" root root 00755
# the queue's door (mm-queue -l): its socket, made by the queue owner alone
dir "$home/queue/door" "$u_queue" root 00755
[ -e "$home/queue/lock/send" ] || run touch "$home/queue/lock/send"
run chown "$u_queue:$g_mm" "$home/queue/lock/send"
run chmod 0660 "$home/queue/lock/send"
# read by mm-send; anyone may pull it (one byte: look at the queue)
[ -p "$home/queue/lock/trigger" ] || { [ ! -e "$home/queue/lock/trigger" ] || run rm -f "$home/queue/lock/trigger"; run mkfifo "$home/queue/lock/trigger"; }
run chown "$u_send:$g_mm" "$home/queue/lock/trigger"
run chmod 0622 "$home/queue/lock/trigger"
# routes that are up: made by root and the online group (mm-online opens
# nothing there by name but new files of its own)
dir "$home/queue/online" root "$g_online" 02775
# mm-send's progress files, read by mm-online --wait (root and the online
# group): written by the send user alone, so neither reads a planted file
dir "$home/queue/flush" "$u_send" "$g_online" 02755
# progress files of older versions lived in queue/online
[ "$dry" = 1 ] || rm -f "$home"/queue/online/*.flush "$home"/queue/online/*.flush.tmp
# postmaster's last-resort mailbox, written by the alias user
dir "$home/mail" "$u_alias" "$gr_alias" 00700
# mm-pop3fetch's UIDL records and account locks: the pop user's alone
dir "$home/pop" "$u_pop" "$(group_of "$u_pop")" 00700

# ---- service directories (daemontools) and systemd units

svc() {  # NAME
  dir "$home/service/$1" root root 00755
  dir "$home/service/$1/log" root root 00755
  dir "$home/service/$1/log/main" "$u_log" "$gr_log" 00750
  template "$1/run" | writefile "$home/service/$1/run" root root 0755
  template "$1/log/run" | writefile "$home/service/$1/log/run" root root 0755
}
# SERVICE FILE VALUE OPTION: a tunable, kept unless given on the command line
tunable() {
  if [ -n "$4" ]; then printf '%s\n' "$4" | writefile "$home/service/$1/$2" root root 0644
  else printf '%s\n' "$3" | putfile "$home/service/$1/$2" root root 0644
  fi
}
dir "$home/service" root root 00755
svc mm-send
svc mm-smtpd
tunable mm-smtpd ip 0 "$smtp_ip"
tunable mm-smtpd port 25 "$smtp_port"
tunable mm-smtpd concurrency 20 "$smtp_max"
tunable mm-smtpd listener tcpserver "$smtp_listener"
units="mm-send mm-smtpd"
if [ -e "$top/src/mm-pop3fetch.c" ] || [ -e "$home/bin/mm-pop3fetch" ]; then
  svc mm-pop3fetch
  tunable mm-pop3fetch interval 900 ""
  units="$units mm-pop3fetch"
fi
dir "$home/systemd" root root 00755
for u in $units; do
  template "systemd/$u.service" | writefile "$home/systemd/$u.service" root root 0644
done

# ---- man pages

note "installing the man pages into $mandir"
for f in "$top"/man/*.[1-8]; do
  [ -f "$f" ] || continue
  s=${f##*.}
  [ -d "$mandir/man$s" ] || run mkdir -p "$mandir/man$s"
  run cp "$f" "$mandir/man$s/.${f##*/}.new"
  run chmod 0644 "$mandir/man$s/.${f##*/}.new"
  run mv -f "$mandir/man$s/.${f##*/}.new" "$mandir/man$s/${f##*/}"
done

# ---- the sendmail links

if [ "$links" = 1 ]; then
  for l in $link_list; do
    path=$prefix/${l%%:*} want=$home/bin/${l#*:}
    if [ -L "$path" ] && [ "$(readlink "$path")" = "$want" ]; then continue; fi
    [ -d "${path%/*}" ] || run mkdir -p "${path%/*}"
    case " $foreign_links " in
      *" $l "*)
        what=$(describe "$path")
        if [ -e "$path.mm-saved" ] || [ -L "$path.mm-saved" ]; then
          run rm -f "$path"
          note "replaced $path ($what); an earlier one is still in $path.mm-saved"
        else
          run mv -f "$path" "$path.mm-saved"
          note "replaced $path ($what); it is now $path.mm-saved"
        fi ;;
      *) note "linking $path -> $want" ;;
    esac
    run ln -sfn "$want" "$path"
  done
fi

# ---- the services, on request

case "$services" in
  daemontools)
    [ -d "$prefix/etc/service" ] || { warn "$prefix/etc/service did not exist: is daemontools-run installed?"; run mkdir -p "$prefix/etc/service"; }
    for u in $units; do
      l=$prefix/etc/service/$u
      if [ -L "$l" ] && [ "$(readlink "$l")" = "$home/service/$u" ]; then continue; fi
      if [ -e "$l" ] || [ -L "$l" ]; then warn "$l exists and is not mm's: left alone"; continue; fi
      note "starting $u: $l -> $home/service/$u (svscan starts it within 5 seconds)"
      run ln -s "$home/service/$u" "$l"
    done ;;
  systemd)
    [ -d "$prefix/etc/systemd/system" ] || run mkdir -p "$prefix/etc/systemd/system"
    for u in $units; do
      note "installing $prefix/etc/systemd/system/$u.service"
      run cp "$home/systemd/$u.service" "$prefix/etc/systemd/system/$u.service"
    done
    if [ -z "$prefix" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
      run systemctl daemon-reload
      for u in $units; do run systemctl enable --now "$u.service"; done
    else
      note "then: systemctl daemon-reload; systemctl enable --now$(for u in $units; do printf ' %s.service' "$u"; done)"
    fi ;;
esac

[ "$dry" = 1 ] && exit 0
note "done. Queue: $home/queue; control files: $home/control; services: $home/service"
[ "$links" = 1 ] || note "sendmail links: install.sh --links (mm's sendmail is $home/bin/sendmail)"
[ -n "$services" ] || note "services: install.sh --services daemontools (or systemd)"
exit 0
