# mm: build, install into a private instance, test.
# Every src/mm-*.c (and src/sendmail.c) is one program; src/lib/*.c is the
# shared library linked into all of them.

CC ?= cc
CFLAGS ?= -O2 -g
WARN = -Wall -Wextra -Wno-unused-parameter -Werror=implicit-function-declaration
SKALIBS_INC ?= $(firstword $(wildcard /usr/include/skalibs /usr/include/*/skalibs))
CPPFLAGS += -Isrc/lib -Ibuild -D_GNU_SOURCE
LDLIBS += -lskarnet
# The programs every locally submitted message passes through are linked
# statically: starting a dynamically linked program (the loader, its
# mappings, its relocations) costs about half a millisecond on a virtual
# machine, as much as the queue's two fsyncs. None of them uses the name
# service (see inject.c). STATIC=0 links them like the others.
STATIC ?= 1
STATIC_PROGS := sendmail mm-inject mm-queue mm-local
# Every symbol bound at start, and the tables read-only after it (full
# RELRO, as Debian's hardening flags): a stray write cannot redirect a
# library call, and the daemons that fork a child per connection or
# delivery (mm-smtpd -l, mm-lspawn, the mm-tls server) bind nothing again
# in each child.
LDFLAGS += -Wl,-z,now -Wl,-z,relro
ifeq ($(SANITIZE),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
STATIC = 0
endif

B = build
PROGS := $(sort $(basename $(notdir $(wildcard src/mm-*.c src/sendmail.c))))
LIBSRC := $(wildcard src/lib/*.c)
LIBOBJ := $(patsubst src/lib/%.c,$(B)/lib/%.o,$(LIBSRC)) $(B)/auto_home.o $(B)/auto_users.o
HEADERS := $(wildcard src/lib/*.h)

all: check-skalibs check-libtls $(addprefix $(B)/,$(PROGS))

check-skalibs:
	@test -n "$(SKALIBS_INC)" || { echo "mm needs skalibs: apt-get install skalibs-dev" >&2; exit 1; }

# mm-tls alone is linked with the TLS library (libretls over OpenSSL)
TLS_INC ?= $(firstword $(wildcard /usr/include/tls.h /usr/local/include/tls.h))
TLS_LIBS ?= -ltls -lcrypto
check-libtls:
	@test -n "$(TLS_INC)" || { echo "mm needs libtls: apt-get install libtls-dev" >&2; exit 1; }

$(B)/lib $(B):
	mkdir -p $@

# install.sh --home DIR / --users FILE builds into its own B with these
CONF_HOME ?= $(shell head -n 1 conf-home)
CONF_USERS ?= conf-users

$(B)/auto_home.c: conf-home | $(B)
	printf 'char const auto_home[] = "%s";\n' "$(CONF_HOME)" > $@

$(B)/auto_users.c: $(CONF_USERS) | $(B)
	{ printf 'char const *const auto_users[9] = {\n' ; head -n 9 $(CONF_USERS) | sed 's/.*/  "&",/' ; printf '} ;\n' ; } > $@

$(B)/auto_%.o: $(B)/auto_%.c
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

$(B)/lib/%.o: src/lib/%.c $(HEADERS) | $(B)/lib
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

$(B)/libmm.a: $(LIBOBJ)
	rm -f $@ && ar rcs $@ $^

$(B)/%: src/%.c $(B)/libmm.a $(HEADERS)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) -o $@ $< $(B)/libmm.a $(LDLIBS)

$(B)/mm-tls: src/mm-tls.c $(B)/libmm.a $(HEADERS)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) -o $@ $< $(B)/libmm.a $(LDLIBS) $(TLS_LIBS)

ifeq ($(STATIC),1)
$(addprefix $(B)/,$(STATIC_PROGS)): LDFLAGS += -static
endif

# C unit tests: tests/unit/*.c, each a TAP program
UNITS := $(basename $(notdir $(wildcard tests/unit/*.c)))
$(B)/unit/%: tests/unit/%.c $(B)/libmm.a $(HEADERS)
	@mkdir -p $(B)/unit
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) -o $@ $< $(B)/libmm.a $(LDLIBS)
units: $(addprefix $(B)/unit/,$(UNITS))

# make test: installs the test dependencies when run as root (tests/deps),
# builds plain and runs every test, then again under ASan/UBSan.
test:
	tests/deps
	$(MAKE) all units
	tests/run

lint-man:
	mandoc -Tlint -Wwarning man/*.[1-8]

clean:
	rm -rf $(B)

.PHONY: all check-skalibs check-libtls test units lint-man clean
.SECONDARY:

# Fuzzing (fuzz/README): every fuzz/*.c is a libFuzzer harness, built with
# clang, ASan and UBSan against a build of src/lib of its own in
# $(B)/fuzz. `make fuzz` builds them and runs each in turn for FUZZ_TIME
# seconds (FUZZERS="smtpd dns" for some of them); fuzz/run -r reports the
# executions and crashes of every run so far.
FUZZCC ?= clang
FUZZ_TIME ?= 60
FUZZB = $(B)/fuzz
FUZZFLAGS = -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZERS ?= $(basename $(notdir $(wildcard fuzz/*.c)))
FUZZLIBOBJ := $(patsubst src/lib/%.c,$(FUZZB)/lib/%.o,$(LIBSRC)) $(FUZZB)/auto_home.o $(FUZZB)/auto_users.o

$(FUZZB)/lib/%.o: src/lib/%.c $(HEADERS)
	@mkdir -p $(FUZZB)/lib
	$(FUZZCC) $(CPPFLAGS) $(FUZZFLAGS) -fsanitize=fuzzer-no-link $(WARN) -c -o $@ $<
$(FUZZB)/auto_%.o: $(B)/auto_%.c
	@mkdir -p $(FUZZB)
	$(FUZZCC) $(CPPFLAGS) $(FUZZFLAGS) $(WARN) -c -o $@ $<
$(FUZZB)/libmm.a: $(FUZZLIBOBJ)
	rm -f $@ && ar rcs $@ $^
$(FUZZB)/%: fuzz/%.c fuzz/fuzz.h $(FUZZB)/libmm.a $(HEADERS)
	$(FUZZCC) $(CPPFLAGS) $(FUZZFLAGS) -fsanitize=fuzzer $(WARN) -o $@ $< $(FUZZB)/libmm.a $(LDLIBS)
# these include the file they fuzz
$(FUZZB)/smtpd: src/mm-smtpd.c
$(FUZZB)/dns: src/lib/dns.c
check-fuzz:
	@printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0 ; }\n' | \
	  $(FUZZCC) -fsanitize=fuzzer -x c -o /dev/null - 2>/dev/null || \
	  { echo "make fuzz needs clang with libFuzzer: apt-get install clang libclang-rt-dev" >&2; exit 1; }
fuzz-build: check-fuzz check-skalibs $(addprefix $(FUZZB)/,$(FUZZERS))
fuzz: fuzz-build
	fuzz/run -b $(FUZZB) -t $(FUZZ_TIME) $(FUZZERS)

.PHONY: fuzz fuzz-build check-fuzz
