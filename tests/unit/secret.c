/* TAP unit test of src/lib/secret.c: secret files (owner, mode, first
   line) and secret commands (output, a token of several kilobytes,
   failures, a command that hangs, one that prints nothing), and of the
   SASL OAuth2 responses of src/lib/sasl.c. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/stralloc.h>
#include "base64.h"
#include "sasl.h"
#include "secret.h"

static unsigned int n = 0 ;
static unsigned int failed = 0 ;
static char dir[] = "/tmp/mm-unit-secret.XXXXXX" ;
static char path[512] ;

static void ok (int cond, char const *what)
{
  n++ ;
  if (!cond) failed++ ;
  printf("%sok %u - %s\n", cond ? "" : "not ", n, what) ;
}

static char const *put (char const *rel, char const *s, mode_t mode)
{
  FILE *f ;
  snprintf(path, sizeof path, "%s/%s", dir, rel) ;
  unlink(path) ;
  f = fopen(path, "w") ;
  if (!f || fputs(s, f) < 0 || fclose(f) || chmod(path, mode) < 0) { perror(path) ; exit(1) ; }
  return path ;
}

/* a command file running /bin/sh on a script */
static char const *command (char const *name, char const *script)
{
  char line[1024], sh[600] ;
  snprintf(sh, sizeof sh, "%s.sh", name) ;
  put(sh, script, 0700) ;
  snprintf(line, sizeof line, "/bin/sh %s\n", path) ;
  return put(name, line, 0600) ;
}

static void files (void)
{
  stralloc sa = STRALLOC_ZERO ;
  char const *why = 0 ;
  ok(secret_file(put("s1", "hunter2\nsecond line\n", 0600), &sa, &why) == 1 && !strcmp(sa.s, "hunter2"), "a secret file: its first line") ;
  ok(secret_file(put("s2", "hunter2\r\n", 0400), &sa, &why) == 1 && !strcmp(sa.s, "hunter2"), "CRLF ends the line; mode 0400 is fine") ;
  ok(secret_file(put("s3", "hunter2\n", 0640), &sa, &why) == 0 && strstr(why, "readable by it alone"), "a secret the group can read is refused") ;
  ok(secret_file(put("s4", "\n", 0600), &sa, &why) == 0 && !strcmp(why, "is empty"), "an empty secret is refused") ;
  snprintf(path, sizeof path, "%s/none", dir) ;
  ok(secret_file(path, &sa, &why) == 0 && !strcmp(why, "is missing"), "a missing secret file") ;
  {
    char link[600] ;
    snprintf(link, sizeof link, "%s/link", dir) ;
    put("s1", "hunter2\n", 0600) ;
    if (symlink(path, link) < 0) { perror("symlink") ; exit(1) ; }
    ok(secret_file(link, &sa, &why) == 0 && !strcmp(why, "is a symbolic link"), "a symbolic link is not followed") ;
  }
  secret_free(&sa) ;
}

static void commands (void)
{
  stralloc sa = STRALLOC_ZERO, diag = STRALLOC_ZERO ;
  char const *why = 0 ;
  char big[3001] ;
  char script[3200] ;
  ok(secret_command(command("c1", "echo tok-123; echo more\n"), 5, &sa, &diag, &why) == 1 && !strcmp(sa.s, "tok-123"), "a command: the first line of its output") ;
  memset(big, 'x', 3000) ; big[3000] = 0 ;
  snprintf(script, sizeof script, "printf '%%s\\n' %s\n", big) ;
  ok(secret_command(command("c2", script), 5, &sa, &diag, &why) == 1 && sa.len == 3000, "a 3000-byte token") ;
  ok(secret_command(command("c3", "echo 'token expired: run oama renew' >&2; exit 3\n"), 5, &sa, &diag, &why) == 0
     && !strcmp(why, "failed (non-zero exit)") && strstr(diag.s, "run oama renew"), "a failing command: why, and its stderr for the log") ;
  ok(secret_command(command("c4", "exit 0\n"), 5, &sa, &diag, &why) == 0 && !strcmp(why, "printed nothing"), "a command that prints nothing") ;
  ok(secret_command(command("c5", "sleep 30 & sleep 30\n"), 1, &sa, &diag, &why) == 0 && !strcmp(why, "timed out"), "a command that hangs is killed at its timeout") ;
  ok(secret_command(command("c6", "echo $HOME:$PATH:${SECRET_LEAK:-clean}\n"), 5, &sa, &diag, &why) == 1 && strstr(sa.s, ":/usr/bin:/bin:clean"), "a clean environment") ;
  ok(secret_command(put("c7", "relative/prog\n", 0600), 5, &sa, &diag, &why) == 0 && strstr(why, "absolute path"), "a relative program is refused") ;
  ok(secret_command(put("c8", "/bin/echo hi\n", 0622), 5, &sa, &diag, &why) == 0 && strstr(why, "writable by nobody else"), "a command file others may write is refused") ;
  ok(secret_command(put("c9", "/nonexistent/prog\n", 0600), 5, &sa, &diag, &why) == 0 && strstr(why, "does not exist"), "a missing program") ;
  secret_free(&sa) ;
  stralloc_free(&diag) ;
}

static int b64is (stralloc const *b64, char const *want, size_t wlen)
{
  stralloc raw = STRALLOC_ZERO ;
  int r = base64_decode_cat(&raw, b64->s, b64->len) && raw.len == wlen && !memcmp(raw.s, want, wlen) ;
  stralloc_free(&raw) ;
  return r ;
}

static void oauth (void)
{
  stralloc sa = STRALLOC_ZERO, status = STRALLOC_ZERO ;
  static char const x[] = "user=joe@example.org\001auth=Bearer ya29.tok\001\001" ;
  static char const o[] = "n,a=joe@example.org,\001host=smtp.example.org\001port=587\001auth=Bearer ya29.tok\001\001" ;
  static char const err[] = "{\"status\":\"invalid_token\",\"schemes\":\"bearer\",\"scope\":\"https://mail.google.com/\"}" ;
  stralloc eb = STRALLOC_ZERO ;
  ok(sasl_xoauth2(&sa, "joe@example.org", "ya29.tok") && b64is(&sa, x, sizeof x - 1), "XOAUTH2 initial response") ;
  ok(sasl_oauthbearer(&sa, "joe@example.org", "smtp.example.org", 587, "ya29.tok") && b64is(&sa, o, sizeof o - 1), "OAUTHBEARER initial response (RFC 7628 3.1)") ;
  if (!base64_cat(&eb, err, sizeof err - 1) || !stralloc_0(&eb)) exit(1) ;
  ok(sasl_oauth_status(eb.s, &status) == 1 && !strcmp(status.s, "invalid_token"), "the status of a JSON error challenge") ;
  ok(sasl_oauth_status("not base64!", &status) == 0, "a challenge that is not base64") ;
  stralloc_free(&sa) ; stralloc_free(&status) ; stralloc_free(&eb) ;
}

int main (void)
{
  if (!mkdtemp(dir)) { perror("mkdtemp") ; return 1 ; }
  setenv("SECRET_LEAK", "leaked", 1) ;
  files() ;
  commands() ;
  oauth() ;
  printf("1..%u\n", n) ;
  {
    char cmd[600] ;
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir) ;
    if (system(cmd)) { }
  }
  return failed ? 1 : 0 ;
}
