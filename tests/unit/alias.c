/* Unit test of the alias file (mm-aliases(5)) and local user lookup, in a
   temporary private instance. Prints TAP. */

#include <stdio.h>
#include <stdlib.h>
#include <malloc.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>
#include <skalibs/djbunix.h>
#include "alias.h"
#include "home.h"
#include "users.h"

static unsigned int testno = 0 ;
static unsigned int failed = 0 ;
static char home[256] ;

static void ok (int cond, char const *what)
{
  testno++ ;
  if (!cond) failed++ ;
  printf("%sok %u - %s\n", cond ? "" : "not ", testno, what) ;
}

static void is (char const *got, char const *want, char const *what)
{
  ok(!strcmp(got, want), what) ;
  if (strcmp(got, want)) printf("#      got: '%s'\n# expected: '%s'\n", got, want) ;
}

static void writefile (char const *rel, char const *text)
{
  char path[512] ;
  FILE *f ;
  snprintf(path, sizeof path, "%s/%s", home, rel) ;
  f = fopen(path, "w") ;
  if (!f || fputs(text, f) < 0 || fclose(f) < 0) { perror(path) ; exit(1) ; }
}

/* Local users for the tests: a fixed list, so that passwd does not matter. */
static char const *const users[] = { "alice", "bob", "carol", "loopy", "postmaster", 0 } ;
static int with_postmaster = 0 ;

static int test_user_exists (char const *name)
{
  for (unsigned int i = 0 ; users[i] ; i++)
  {
    if (!strcmp(users[i], "postmaster") && !with_postmaster) continue ;
    if (!strcmp(users[i], name)) return 1 ;
  }
  return 0 ;
}

static aliasdb db = ALIASDB_ZERO ;

/* Load text as control/aliases; the load result, with line and why. */
static int load (char const *text, unsigned int *line, char const **why)
{
  aliasdb_free(&db) ;
  {
    aliasdb zero = ALIASDB_ZERO ;
    db = zero ;
  }
  writefile("control/aliases", text) ;
  return aliasdb_load(&db, "control/aliases", line, why) ;
}

static void loadok (char const *text, char const *what)
{
  unsigned int line ;
  char const *why ;
  int r = load(text, &line, &why) ;
  ok(r == 1, what) ;
  if (r != 1) printf("# load returned %d, line %u: %s\n", r, line, why) ;
}

static void loadbad (char const *text, unsigned int wantline, char const *what)
{
  unsigned int line = 0 ;
  char const *why = "" ;
  int r = load(text, &line, &why) ;
  ok(r == 0 && line == wantline, what) ;
  if (r != 0 || line != wantline) printf("# load returned %d, line %u (expected 0, line %u): %s\n", r, line, wantline, why) ;
  else printf("# rejected: line %u: %s\n", line, why) ;
}

static genalloc out = GENALLOC_ZERO ;
static stralloc strings = STRALLOC_ZERO ;
static char result[4096] ;

/* The results appended by one expansion, as "target; target; !name=error". */
static char const *expand_more (char const *name, int *count)
{
  size_t before = genalloc_len(aliasresult, &out) ;
  int r = alias_expand(&db, name, &test_user_exists, &out, &strings) ;
  size_t pos = 0 ;
  if (count) *count = r ;
  result[0] = 0 ;
  if (r < 0) { snprintf(result, sizeof result, "ERROR %d", r) ; return result ; }
  for (size_t i = before ; i < genalloc_len(aliasresult, &out) ; i++)
  {
    aliasresult const *a = genalloc_s(aliasresult, &out) + i ;
    pos += snprintf(result + pos, sizeof result - pos, "%s%s%s%s", pos ? "; " : "", strings.s + a->target,
      aliasresult_ok(a) ? "" : "=", aliasresult_ok(a) ? "" : strings.s + a->error) ;
  }
  return result ;
}

static char const *expand (char const *name)
{
  genalloc_setlen(aliasresult, &out, 0) ;
  strings.len = 0 ;
  return expand_more(name, 0) ;
}

int main (void)
{
  char buf[4096] ;
  unsigned int line ;
  char const *why ;
  strcpy(home, "/tmp/mm-alias-test.XXXXXX") ;
  if (!mkdtemp(home)) { perror("mkdtemp") ; return 1 ; }
  setenv("MM_HOME", home, 1) ;
  snprintf(buf, sizeof buf, "%s/control", home) ; mkdir(buf, 0755) ;
  snprintf(buf, sizeof buf, "%s/home", home) ; mkdir(buf, 0755) ;
  snprintf(buf, sizeof buf, "%s/home/alice", home) ; mkdir(buf, 0755) ;
  writefile("control/instance", "test\n") ;
  writefile("control/me", "mx.example.org\n") ;
  writefile("control/locals", "localhost\nexample.org\nmx.example.org\n") ;

  /* absent file */
  {
    aliasdb empty = ALIASDB_ZERO ;
    ok(aliasdb_load(&empty, "control/aliases", &line, &why) == 1 && !aliasdb_count(&empty), "absent alias file is an empty database") ;
    aliasdb_free(&empty) ;
  }

  /* a file of comments alone has no entry to sort: no qsort of a null
     array, which UBSan refuses (found by fuzz/alias) */
  loadok("# nothing but a comment\n\n", "a file of comments alone") ;
  ok(aliasdb_count(&db) == 0, "a file of comments alone is an empty database") ;

  /* parsing */
  loadok("# a comment\n\nroot: alice\n\nstaff: alice,\n  bob\n\tcarol, \n", "simple file with comments, blank lines, continuation") ;
  ok(aliasdb_count(&db) == 2, "two aliases") ;
  is(expand("root"), "ualice", "root -> alice") ;
  is(expand("staff"), "ualice; ubob; ucarol", "continuation lines: a line end separates targets like a comma") ;
  is(expand("STAFF"), "ualice; ubob; ucarol", "alias names are case-insensitive") ;
  loadok("Staff: Alice\nlist: bob,\n# a comment inside\n  carol\n", "comment line inside an entry") ;
  is(expand("staff"), "ualice", "name and target case folded") ;
  is(expand("list"), "ubob; ucarol", "a comment line does not end an entry") ;

  /* pipes, files, quotes */
  loadok("p: \"|cmd with, comma\", /var/x, /var/box/, |simple\nq: \"/path with space\"\n", "pipes and files") ;
  is(expand("p"), "|cmd with, comma; /var/x; /var/box/; |simple", "quoted pipe keeps its comma; files and Maildirs") ;
  is(expand("q"), "/path with space", "quoted file: the path's own slash is the type letter") ;

  /* addresses */
  loadok("x: Bob@Remote.Example, alice@Example.ORG, <carol@localhost>\n", "addresses") ;
  is(expand("x"), "rBob@remote.example; ualice; ucarol", "remote address, local domains recurse, <> stripped") ;
  loadok("x: \\alice, \\nosuch\n", "backslash users") ;
  is(expand("x"), "ualice; !nosuch=5.1.1 alias x: no such user nosuch", "\\user, \\unknown") ;

  /* not an alias */
  is(expand("alice"), "ualice", "a user that is no alias") ;
  is(expand("Alice"), "ualice", "a user, other case") ;
  is(expand("nobody2"), "!nobody2=5.1.1 no such user nobody2", "neither alias nor user") ;

  /* unknown names among good ones */
  loadok("x: alice, nosuch, y\ny: bob, nosuch2\n", "unknown names") ;
  is(expand("x"), "ualice; !nosuch=5.1.1 alias x: no such user nosuch; ubob; !nosuch2=5.1.1 alias y: no such user nosuch2",
    "unknown names are errors, the others stay good") ;

  /* loops */
  loadok("a: b\nb: c\nc: a\nloopy: loopy, |vacation\nself: self\n", "loops") ;
  is(expand("a"), "!a=5.4.6 alias loop: a -> b -> c -> a", "alias loop is an error naming the path") ;
  is(expand("b"), "!b=5.4.6 alias loop: b -> c -> a -> b", "same loop from another name") ;
  is(expand("loopy"), "uloopy; |vacation", "a name on its own path means the user's mailbox") ;
  is(expand("self"), "!self=5.4.6 alias loop: self -> self", "self alias without a user") ;

  /* depth */
  {
    stralloc text = STRALLOC_ZERO ;
    char l[64] ;
    for (int i = 0 ; i < ALIAS_DEPTH_MAX + 5 ; i++)
    {
      snprintf(l, sizeof l, "d%d: d%d\n", i, i + 1) ;
      stralloc_cats(&text, l) ;
    }
    stralloc_cats(&text, "d37: alice\n") ;
    stralloc_0(&text) ;
    loadok(text.s, "a chain deeper than ALIAS_DEPTH_MAX") ;
    ok(!strncmp(expand("d0"), "!d32=5.4.6 alias nesting too deep: d0 -> d1", 40), "depth limit gives an error") ;
    is(expand("d10"), "ualice", "a chain within the limit resolves") ;
    stralloc_free(&text) ;
  }

  /* duplicates */
  loadok("x: alice, bob, y, |cmd\ny: alice, ALICE@localhost, \\alice, bob@mx.example.org, \"|cmd\"\nz: alice\n", "duplicates") ;
  is(expand("x"), "ualice; ubob; |cmd", "the same final target appears once") ;
  {
    int n ;
    is(expand_more("z", &n), "", "a target already in out is not appended again") ;
    ok(n == 0, "and the count is 0") ;
    is(expand_more("carol", &n), "ucarol", "a new one is") ;
    ok(n == 1, "and counted") ;
  }

  /* include */
  writefile("members", "alice\n# a comment\nbob@remote.example, \"|echo hi, there\"\n\n  carol  \n") ;
  writefile("badmembers", "alice\nbad@@address\n|\n") ;
  writefile("loopmembers", "inc\n") ;
  snprintf(buf, sizeof buf, "list: :include:%s/members\nbadlist: :include:%s/badmembers, bob\nnone: :include:%s/nonexistent\ninc: alice, :include:%s/loopmembers\n", home, home, home, home) ;
  loadok(buf, "include") ;
  is(expand("list"), "ualice; rbob@remote.example; |echo hi, there; ucarol", "include file: one per line or comma-separated, comments") ;
  snprintf(buf, sizeof buf, "ualice; !bad@@address=5.1.3 alias badlist: bad address in %s/badmembers: bad@@address; !|=5.1.3 alias badlist: empty command in %s/badmembers: |; ubob", home, home) ;
  {
    char const *got = expand("badlist") ;
    ok(!strncmp(got, "ualice; !bad@@address=5.1.3 alias badlist: bad local part in ", 61) && strstr(got, "; !|=5.1.3 alias badlist: empty command in ") && strstr(got, "; ubob"), "bad targets in an include file are errors, the others stay good") ;
    printf("# %s\n", got) ;
  }
  snprintf(buf, sizeof buf, "!:include:%s/nonexistent=5.3.5 alias none: include file does not exist: %s/nonexistent", home, home) ;
  is(expand("none"), buf, "missing include file is an error") ;
  snprintf(buf, sizeof buf, "ualice; !inc=5.4.6 alias loop: inc -> :include:%s/loopmembers -> inc", home) ;
  is(expand("inc"), buf, "an include that leads back to its alias is a loop") ;
  writefile("members", "dave\n") ;
  is(expand("list"), "!dave=5.1.1 alias list: no such user dave", "include files are read at expansion time") ;

  /* :include: files of someone else than the administrator (the alias
     file's owner) or root: addresses only, and read only when everyone
     may read them (issue 10, item 2) */
  writefile("userlist", "alice, \"|touch pwned\", /tmp/x.mbox, :include:/dev/null\n") ;
  writefile("secret", "alice\nsecret-line@@here\n") ;
  snprintf(buf, sizeof buf, "ulist: :include:%s/userlist\nsec: :include:%s/secret\nfifo: :include:/dev/null\n", home, home) ;
  loadok(buf, "user include files") ;
  is(expand("ulist"), "ualice; |touch pwned; /tmp/x.mbox; !:include:/dev/null=5.3.5 alias ulist: include file is not a regular file: /dev/null",
     "the administrator's include: commands and files too; a device is not read") ;
  if (!getuid())
  {
    /* root can give the files away; an ordinary run cannot make them */
    char want[8400] ;
    snprintf(buf, sizeof buf, "%s/userlist", home) ;
    ok(chown(buf, 65534, 65534) == 0 && chmod(buf, 0644) == 0, "userlist given to uid 65534") ;
    is(expand("ulist"), "ualice; !|touch pwned=5.7.1 alias ulist: no commands or files from an :include: file the administrator does not own: |touch pwned; "
       "!/tmp/x.mbox=5.7.1 alias ulist: no commands or files from an :include: file the administrator does not own: /tmp/x.mbox; "
       "!:include:/dev/null=5.3.5 alias ulist: include file is not a regular file: /dev/null",
       "a user's include: addresses only, no command, no file") ;
    snprintf(buf, sizeof buf, "%s/secret", home) ;
    ok(chown(buf, 65534, 65534) == 0 && chmod(buf, 0640) == 0, "secret given to uid 65534, not readable by everyone") ;
    snprintf(want, sizeof want, "!:include:%s=5.7.1 alias sec: include file is neither the administrator's nor readable by everyone: %s", buf, buf) ;
    is(expand("sec"), want, "a user's file that not everyone may read is not read (nothing of it is quoted)") ;
  }
  else for (int k = 0 ; k < 4 ; k++) printf("ok %u - # SKIP chown needs root\n", ++testno) ;

  /* syntax errors */
  loadbad("x: alice\ny: |\n", 2, "empty command") ;
  loadbad("x: :include:relative/path\n", 1, "relative include") ;
  loadbad("x: bad@@example.org\n", 1, "bad address") ;
  loadbad("x: alice\n\ny:\n", 3, "alias without targets") ;
  loadbad("no colon here\n", 1, "line without a colon") ;
  loadbad("  alice\n", 1, "continuation line first") ;
  loadbad("x: alice\ny: bob\nX: carol\n", 3, "duplicate alias name (case-insensitive)") ;
  loadbad("x: \"|unterminated, quote\n", 1, "unterminated quote") ;
  loadbad("x@example.org: alice\n", 1, "alias name with a domain") ;
  loadbad("two words: alice\n", 1, "alias name with a space") ;
  loadbad("x: alice # trailing comment\n", 1, "no comments after targets") ;
  loadbad("x: \\\n", 1, "backslash without a name") ;

  /* postmaster */
  loadok("root: alice\n", "no postmaster alias") ;
  snprintf(buf, sizeof buf, "%s/mail/postmaster", home) ;
  is(expand("postmaster"), buf, "postmaster without alias or user: the home's mail/postmaster") ;
  is(expand("PostMaster"), buf, "postmaster is case-insensitive") ;
  with_postmaster = 1 ;
  is(expand("postmaster"), "upostmaster", "postmaster user") ;
  with_postmaster = 0 ;
  loadok("postmaster: root\nroot: alice\n", "postmaster alias") ;
  is(expand("postmaster"), "ualice", "postmaster alias") ;
  loadok("postmaster: nosuch\n", "postmaster alias to nowhere") ;
  snprintf(buf, sizeof buf, "!nosuch=5.1.1 alias postmaster: no such user nosuch; %s/mail/postmaster", home) ;
  is(expand("postmaster"), buf, "postmaster alias to nowhere still resolves") ;
  loadok("x: postmaster\n", "alias to postmaster") ;
  snprintf(buf, sizeof buf, "%s/mail/postmaster", home) ;
  is(expand("x"), buf, "postmaster fallback when reached through an alias") ;

  /* recipient delimiter */
  loadok("list: bob\nalice+special: carol\n", "recipientdelimiter default") ;
  is(expand("alice+foo"), "ualice", "user+ext delivers to user") ;
  is(expand("list+x"), "ubob", "alias+ext expands the alias") ;
  is(expand("alice+special"), "ucarol", "an alias user+ext wins over user") ;
  is(expand("nosuch+foo"), "!nosuch+foo=5.1.1 no such user nosuch+foo", "unknown base") ;
  is(expand("+foo"), "!+foo=5.1.1 no such user +foo", "empty base") ;
  writefile("control/recipientdelimiter", "-\n") ;
  loadok("list: bob\n", "recipientdelimiter -") ;
  is(expand("alice-foo"), "ualice", "user-ext with delimiter -") ;
  is(expand("alice+foo"), "!alice+foo=5.1.1 no such user alice+foo", "+ is no delimiter then") ;
  writefile("control/recipientdelimiter", "+-\n") ;
  loadok("list: bob\n", "two delimiters") ;
  is(expand("alice-foo"), "ualice", "either delimiter, -") ;
  is(expand("list+foo-bar"), "ubob", "either delimiter, the first one splits") ;
  snprintf(buf, sizeof buf, "%s/control/recipientdelimiter", home) ; unlink(buf) ;

  /* alias_split */
  {
    stralloc sa = STRALLOC_ZERO ;
    char const *list = " a , \"b\\\"c, d\" ,, <e@f>\n# c\n  g" ;
    int n = alias_split(&sa, list, strlen(list)) ;
    ok(n == 4 && sa.len == 15 && !memcmp(sa.s, "a\0b\"c, d\0e@f\0g\0", 15), "alias_split: trims, unquotes, unescapes, strips <>") ;
    sa.len = 0 ;
    ok(alias_split(&sa, "\"a, b", 5) == -2, "alias_split: unterminated quote") ;
    stralloc_free(&sa) ;
  }

  /* users in a private instance */
  ok(mm_is_instance(), "the test home is a private instance") ;
  ok(users_exists("alice") == 1, "users_exists: home/alice") ;
  ok(users_exists("bob") == 0, "users_exists: no home/bob") ;
  ok(users_exists("..") == 0 && users_exists("") == 0 && users_exists("a/b") == 0 && users_exists("-x") == 0, "users_exists: bad names") ;
  {
    mmuser u = MMUSER_ZERO ;
    snprintf(buf, sizeof buf, "%s/home/alice", home) ;
    ok(users_lookup("alice", &u) == 1 && u.uid == getuid() && u.gid == getgid() && !strcmp(u.home.s, buf), "users_lookup: the owner's ids, home/alice") ;
    users_free(&u) ;
  }
  writefile("home/file", "") ;
  ok(users_exists("file") == 0, "users_exists: a file under home/ is no user") ;

  /* an include file that includes itself is a loop, and saying so
     costs no memory (found by fuzz/alias: each such expansion leaked) */
  {
    char inc[1024] ;
    struct mallinfo2 m0, m1 ;
    snprintf(inc, sizeof inc, ":include:%s/selfinc\n", home) ;
    writefile("selfinc", inc) ;
    snprintf(buf, sizeof buf, "self: :include:%s/selfinc\n", home) ;
    loadok(buf, "an include file that includes itself") ;
    ok(strstr(expand("self"), "=5.4.6 alias loop: self -> :include:") != 0, "an include file that includes itself is a loop") ;
    for (unsigned int k = 0 ; k < 20 ; k++) expand("self") ;
    m0 = mallinfo2() ;
    for (unsigned int k = 0 ; k < 2000 ; k++) expand("self") ;
    m1 = mallinfo2() ;
    ok(m1.uordblks < m0.uordblks + 20000, "2000 such loops leave the heap as it was") ;
  }

  aliasdb_free(&db) ;
  genalloc_free(aliasresult, &out) ;
  stralloc_free(&strings) ;
  rm_rf(home) ;
  printf("1..%u\n", testno) ;
  return failed ? 1 : 0 ;
}
