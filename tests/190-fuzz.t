#!/bin/bash
# The fuzz harnesses (fuzz/, `make fuzz`): each builds with clang's
# libFuzzer, ASan and UBSan, replays its seeds (among them the inputs
# that once crashed it) and fuzzes for a second without a crash. Longer
# runs are made by hand: make fuzz FUZZ_TIME=600. The harnesses carry
# the sanitizers themselves, so the ASan pass of the suite skips this.
. "$(dirname "$0")/lib.sh"

has_cmd clang || skip_all "clang is not installed (make fuzz needs clang and libclang-rt-dev)"
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0 ; }\n' >"$T/probe.c"
clang -fsanitize=fuzzer,address,undefined -o "$T/probe" "$T/probe.c" >/dev/null 2>&1 \
  || skip_all "clang cannot link libFuzzer (libclang-rt-dev is missing)"
case ${MM_BUILD:-build} in
  *asan*) skip_all "the fuzz harnesses are built with ASan and UBSan already; the plain pass runs them" ;;
esac

names=()
for f in "$TOP"/fuzz/*.c; do names+=("$(basename "$f" .c)"); done
plan $((1 + 3 * ${#names[@]}))

out=$(make -s -C "$TOP" B="$BUILD" fuzz-build 2>&1)
ok '[ $? = 0 ]' "make fuzz-build" || diag "$out"

for n in "${names[@]}"; do
  ok '[ -x "$BUILD/fuzz/$n" ] && [ -d "$TOP/fuzz/corpus/$n" ]' "$n: harness built, seeds in fuzz/corpus/$n"
  out=$("$TOP/fuzz/run" -b "$BUILD/fuzz" -c "$T/corpus" -s "$T/stats" -t 1 "$n" 2>&1)
  ok '[ $? = 0 ]' "$n: a second without a crash" || diag "$out"
  execs=$(awk -v n="$n" '$1 == n { print $2 }' "$T/stats" 2>/dev/null)
  ok '[ "${execs:-0}" -gt 100 ]' "$n: ran (${execs:-0} executions)"
done
