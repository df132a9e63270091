/* TAP unit test of src/lib/rewrite.c: per-route rewriting of local
   addresses in the envelope sender and the originator header fields. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/stralloc.h>
#include "rewrite.h"

static unsigned int n = 0 ;
static unsigned int failed = 0 ;

static void ok (int cond, char const *what, char const *got, char const *want)
{
  n++ ;
  if (!cond) failed++ ;
  printf("%sok %u - %s\n", cond ? "" : "not ", n, what) ;
  if (!cond)
  {
    printf("#      got: '%s'\n#   wanted: '%s'\n", got ? got : "(null)", want ? want : "(null)") ;
  }
}

static void writefile (char const *path, char const *s)
{
  FILE *f = fopen(path, "w") ;
  if (!f || fputs(s, f) < 0 || fclose(f)) { perror(path) ; exit(1) ; }
}

static rewrite rw = REWRITE_ZERO ;

static void addr (char const *in, char const *want, int wantr, char const *what)
{
  stralloc out = STRALLOC_ZERO ;
  int r = rewrite_address(&rw, in, strlen(in), &out) ;
  ok(r == wantr && !strcmp(out.s, want), what, out.s, want) ;
  stralloc_free(&out) ;
}

static void header (char const *in, char const *want, int wantn, char const *what)
{
  stralloc out = STRALLOC_ZERO ;
  int r = rewrite_header(&rw, in, strlen(in), &out) ;
  stralloc_0(&out) ;
  ok(r == wantn && !strcmp(out.s, want), what, out.s, want) ;
  stralloc_free(&out) ;
}

int main (void)
{
  char dir[] = "/tmp/mm-unit-rewrite.XXXXXX" ;
  char path[256] ;
  unsigned int line = 0 ;
  if (!mkdtemp(dir)) { perror("mkdtemp") ; return 1 ; }
  setenv("MM_HOME", dir, 1) ;
  snprintf(path, sizeof path, "%s/control", dir) ; mkdir(path, 0755) ;
  snprintf(path, sizeof path, "%s/control/locals", dir) ;
  writefile(path, "localhost\nlaptop.home\n") ;
  snprintf(path, sizeof path, "%s/control/me", dir) ;
  writefile(path, "laptop.home\n") ;
  snprintf(path, sizeof path, "%s/control/rw", dir) ;
  writefile(path,
    "# comments and blank lines are allowed\n"
    "\n"
    "alice   alice.smith@isp.example\n"
    "root@*  postmaster@isp.example\n"
    "*  *@isp.example\n") ;

  printf("1..26\n") ;
  ok(rewrite_load(&rw, "control/rw", &line) == 1, "the rules load", 0, 0) ;

  addr("alice@laptop.home", "alice.smith@isp.example", 1, "a local part rule") ;
  addr("alice@localhost", "alice.smith@isp.example", 1, "for every local domain") ;
  addr("bob@laptop.home", "bob@isp.example", 1, "domain only: *@DOMAIN keeps the local part") ;
  addr("root@localhost", "postmaster@isp.example", 1, "a glob on the whole address") ;
  addr("bob@elsewhere.example", "bob@elsewhere.example", 0, "a non-local address is untouched") ;
  addr("", "", 0, "the null sender is untouched") ;
  addr("ALICE@LAPTOP.HOME", "alice.smith@isp.example", 1, "matching ignores case") ;

  header("From: alice@laptop.home\n\n", "From: alice.smith@isp.example\n\n", 1, "From: a bare address") ;
  header("From: Alice Smith <alice@laptop.home>\nSubject: x\n\nbody alice@laptop.home\n",
         "From: Alice Smith <alice.smith@isp.example>\nSubject: x\n\nbody alice@laptop.home\n", 1,
         "the display name is kept; the body and other fields are not touched") ;
  header("From: \"Smith, Alice\" <alice@laptop.home> (home)\n\n",
         "From: \"Smith, Alice\" <alice.smith@isp.example> (home)\n\n", 1, "quoted display name and comment kept") ;
  header("From: bob@laptop.home (Bob)\n\n", "From: bob@isp.example (Bob)\n\n", 1, "a comment after a bare address") ;
  header("Reply-To: a@elsewhere.example,\n  Bob <bob@laptop.home>,\n\tcarol@laptop.home\n\n",
         "Reply-To: a@elsewhere.example,\n  Bob <bob@isp.example>,\n\tcarol@isp.example\n\n", 2,
         "a folded multi-address field: folding kept, non-local untouched") ;
  header("Mail-Followup-To: list: bob@laptop.home, x@y.example;, alice@laptop.home\n\n",
         "Mail-Followup-To: list: bob@isp.example, x@y.example;, alice.smith@isp.example\n\n", 2, "groups") ;
  header("Sender: bob@laptop.home\nreturn-path: <bob@laptop.home>\n\n",
         "Sender: bob@isp.example\nreturn-path: <bob@isp.example>\n\n", 2, "Sender and Return-Path, any case") ;
  header("To: bob@laptop.home\nCc: alice@laptop.home\n\n", "To: bob@laptop.home\nCc: alice@laptop.home\n\n", 0,
         "recipients' fields are not rewritten") ;
  header("From: \"bob smith\"@laptop.home\n\n", "From: \"bob smith\"@isp.example\n\n", 1, "a quoted local part") ;
  header("From: <@relay.example:bob@laptop.home>\n\n", "From: <@relay.example:bob@isp.example>\n\n", 1, "an obsolete route is kept") ;
  header("From: broken <alice@laptop.home\n\n", "From: broken <alice@laptop.home\n\n", 0, "a field that does not parse is left alone") ;
  header("From: undisclosed:;\n\n", "From: undisclosed:;\n\n", 0, "an empty group") ;
  header("From: alice@laptop.home\n", "From: alice.smith@isp.example\n", 1, "a header without a body") ;
  header("Fromage: alice@laptop.home\n\n", "Fromage: alice@laptop.home\n\n", 0, "only whole field names match") ;

  {
    rewrite none = REWRITE_ZERO ;
    stralloc out = STRALLOC_ZERO ;
    int r = rewrite_header(&none, "From: alice@laptop.home\n\n", 25, &out) ;
    stralloc_0(&out) ;
    ok(r == 0 && !strcmp(out.s, "From: alice@laptop.home\n\n"), "no rules: the header is copied", out.s, "From: alice@laptop.home\n\n") ;
    stralloc_free(&out) ;
  }
  ok(header_length("A: b\nC: d\n\nbody\n", 16) == 11, "header_length: up to the empty line", 0, 0) ;
  ok(header_length("A: b\n", 5) == 5, "header_length: no body", 0, 0) ;
  writefile(path, "alice\n") ;
  ok(rewrite_load(&rw, "control/rw", &line) == -2 && line == 1, "a rule without an address is malformed", 0, 0) ;

  snprintf(path, sizeof path, "rm -rf '%s'", dir) ;
  if (system(path)) { }
  return failed ? 1 : 0 ;
}
