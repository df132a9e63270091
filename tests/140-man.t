#!/bin/bash
# The manual: every page in man/ passes `mandoc -Tlint -Wwarning`, and
# every program built from src/ has a page in section 1 or 8.
. "$(dirname "$0")/lib.sh"

has_cmd mandoc || skip_all "mandoc is not installed"
pages=("$TOP"/man/*.[1-8])
[ -e "${pages[0]}" ] || skip_all "no man pages yet"
progs=()
for f in "$TOP"/src/mm-*.c "$TOP"/src/sendmail.c; do
  [ -e "$f" ] && progs+=("$(basename "$f" .c)")
done
plan $((${#pages[@]} + ${#progs[@]}))

for p in "${pages[@]}"; do
  out=$(mandoc -Tlint -Wwarning "$p" 2>&1)
  st=$?
  ok '[ $st = 0 ] && [ -z "$out" ]' "mandoc -Tlint -Wwarning man/$(basename "$p")" || diag "$out"
done
for p in "${progs[@]}"; do
  ok 'ls "$TOP"/man/"$p".[18] >/dev/null 2>&1' "$p has a man page"
done
