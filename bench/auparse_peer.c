// The peer of `auditree replay` in bench/run.sh: what a user would write
// with Debian's libauparse instead. Reads an audit log (RAW text) with
// auparse (AUSOURCE_FILE), lets it assemble events, and walks every field
// of every record, reading each raw value (and, with -i, its interpreted
// value: uid -> name, syscall -> name, hex -> text, ...). Prints what it
// saw and records/s over its own run on stdout; bench/run.sh times the
// whole process instead, as it does for auditree.
//
//   bench_auparse_peer [-i] FILE

#include <auparse.h>

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  int interpret = 0;
  int opt;
  while ((opt = getopt(argc, argv, "i")) != -1) {
    if (opt != 'i') {
      fprintf(stderr, "usage: %s [-i] FILE\n", argv[0]);
      return 2;
    }
    interpret = 1;
  }
  if (optind + 1 != argc) {
    fprintf(stderr, "usage: %s [-i] FILE\n", argv[0]);
    return 2;
  }
  double start = now_seconds();
  auparse_state_t* au = auparse_init(AUSOURCE_FILE, argv[optind]);
  if (au == NULL) {
    perror(argv[optind]);
    return 1;
  }
  unsigned long long events = 0;
  unsigned long long records = 0;
  unsigned long long fields = 0;
  // Summed so that no read can be optimized away.
  unsigned long long bytes = 0;
  while (auparse_next_event(au) > 0) {
    ++events;
    do {
      ++records;
      if (auparse_first_field(au) <= 0)
        continue;
      do {
        ++fields;
        const char* value = auparse_get_field_str(au);
        if (value != NULL)
          bytes += strlen(value);
        if (interpret) {
          const char* text = auparse_interpret_field(au);
          if (text != NULL)
            bytes += strlen(text);
        }
      } while (auparse_next_field(au) > 0);
    } while (auparse_next_record(au) > 0);
  }
  auparse_destroy(au);
  double seconds = now_seconds() - start;
  printf("events: %llu\nrecords: %llu\nfields: %llu\nbytes: %llu\n"
         "seconds: %.6f\nrecords/s: %.0f\n",
         events, records, fields, bytes, seconds,
         seconds > 0 ? (double) records / seconds : 0.0);
  return 0;
}
