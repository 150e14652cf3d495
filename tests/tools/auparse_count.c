// The independent count for tests/integration/foreign_logs_test.py: walks
// an audit log with Debian's libauparse (its own event grouping and its own
// interpretation of arch= and syscall=) and counts, per arch, the
// successful execs (execve, execveat), the forks that make a process (fork,
// vfork, clone without CLONE_THREAD, returning a child pid) and, apart, the
// clone3 calls returning a child pid (their flags are not in the record, so
// a thread cannot be told from a process). Prints one line per count:
//
//   events N
//   ARCH exec N
//   ARCH fork N
//   ARCH clone3 N
//
//   auparse_count FILE

#include <auparse.h>
#include <libaudit.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { max_arches = 32, name_size = 32 };

struct arch_count {
  char name[name_size];
  unsigned long long execs;
  unsigned long long forks;
  unsigned long long clone3s;
};

enum { clone_thread = 0x00010000 };

static struct arch_count counts[max_arches];
static int arch_total;

static struct arch_count* count_for(const char* arch) {
  for (int i = 0; i < arch_total; ++i)
    if (strcmp(counts[i].name, arch) == 0)
      return &counts[i];
  if (arch_total == max_arches)
    return NULL;
  struct arch_count* c = &counts[arch_total++];
  snprintf(c->name, sizeof c->name, "%s", arch);
  return c;
}

static int is_exec(const char* name) {
  return strcmp(name, "execve") == 0 || strcmp(name, "execveat") == 0;
}

static int is_fork(const char* name) {
  return strcmp(name, "fork") == 0 || strcmp(name, "vfork") == 0
         || strcmp(name, "clone") == 0;
}

// clone's flags are a0, except on s390 and s390x (CLONE_BACKWARDS2: a1),
// as libaudit's machine for the record's arch says.
static int flags_in_a1(unsigned long arch_value) {
  int machine = audit_elf_to_machine((unsigned int) arch_value);
  return machine == MACH_S390 || machine == MACH_S390X;
}

// The current record is a SYSCALL record: count it if it is a process call.
static void count_syscall(auparse_state_t* au) {
  char arch[name_size] = "";
  char call[name_size] = "";
  char success[8] = "";
  long long exit_value = 0;
  unsigned long arch_value = 0;
  unsigned long long a0 = 0, a1 = 0;
  if (auparse_first_field(au) <= 0)
    return;
  do {
    const char* name = auparse_get_field_name(au);
    if (name == NULL)
      continue;
    if (strcmp(name, "arch") == 0) {
      const char* text = auparse_interpret_field(au);
      snprintf(arch, sizeof arch, "%s", text ? text : "");
      arch_value = strtoul(auparse_get_field_str(au), NULL, 16);
    } else if (strcmp(name, "syscall") == 0) {
      const char* text = auparse_interpret_field(au);
      snprintf(call, sizeof call, "%s", text ? text : "");
    } else if (strcmp(name, "success") == 0) {
      snprintf(success, sizeof success, "%s", auparse_get_field_str(au));
    } else if (strcmp(name, "exit") == 0) {
      exit_value = strtoll(auparse_get_field_str(au), NULL, 10);
    } else if (strcmp(name, "a0") == 0) {
      a0 = strtoull(auparse_get_field_str(au), NULL, 16);
    } else if (strcmp(name, "a1") == 0) {
      a1 = strtoull(auparse_get_field_str(au), NULL, 16);
    }
  } while (auparse_next_field(au) > 0);
  if (strcmp(success, "yes") != 0 || arch[0] == '\0')
    return;
  int exec = is_exec(call);
  int fork = is_fork(call) && exit_value > 0;
  int clone3 = strcmp(call, "clone3") == 0 && exit_value > 0;
  // A CLONE_THREAD clone makes a thread, not a process.
  if (fork && strcmp(call, "clone") == 0
      && ((flags_in_a1(arch_value) ? a1 : a0) & clone_thread))
    fork = 0;
  if (!exec && !fork && !clone3)
    return;
  struct arch_count* c = count_for(arch);
  if (c != NULL) {
    c->execs += (unsigned) exec;
    c->forks += (unsigned) fork;
    c->clone3s += (unsigned) clone3;
  }
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s FILE\n", argv[0]);
    return 2;
  }
  auparse_state_t* au = auparse_init(AUSOURCE_FILE, argv[1]);
  if (au == NULL) {
    perror(argv[1]);
    return 1;
  }
  unsigned long long events = 0;
  while (auparse_next_event(au) > 0) {
    ++events;
    do {
      if (auparse_get_type(au) == AUDIT_SYSCALL)
        count_syscall(au);
    } while (auparse_next_record(au) > 0);
  }
  auparse_destroy(au);
  printf("events %llu\n", events);
  for (int i = 0; i < arch_total; ++i)
    printf("%s exec %llu\n%s fork %llu\n%s clone3 %llu\n", counts[i].name,
           counts[i].execs, counts[i].name, counts[i].forks, counts[i].name,
           counts[i].clone3s);
  return 0;
}
