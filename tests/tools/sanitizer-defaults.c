/* tests/tools/sanitizer-defaults.c: the sanitizer settings of the ASan test
   run, compiled into every program of build-asan (tests/run links it in),
   so that they hold in programs that start with a cleaned environment
   (mm-local for pipes and forwards, mm-lspawn, setuid programs) and never
   see ASAN_OPTIONS. ASAN_OPTIONS and UBSAN_OPTIONS still override them. */

char const *__asan_default_options (void) ;
char const *__ubsan_default_options (void) ;

char const *__asan_default_options (void)
{
  return "detect_leaks=0:abort_on_error=1" ;
}

char const *__ubsan_default_options (void)
{
  return "halt_on_error=1:print_stacktrace=1" ;
}
