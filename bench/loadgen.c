// Load for the live benchmarks of bench/run.sh: COUNT times fork, execve
// /bin/true in the child, wait in the parent -- one clone, one execve and
// one exit_group each -- at RATE per second spread over JOBS worker
// processes, each on an absolute schedule (a late worker catches up, so
// the mean rate holds). RATE 0 runs unthrottled. With -t, stops after
// SECONDS even if COUNT is not reached. Prints what it did on stdout.
//
//   bench_loadgen [-r RATE] [-n COUNT] [-j JOBS] [-t SECONDS]

#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void sleep_until(double t) {
  struct timespec ts;
  ts.tv_sec = (time_t) t;
  ts.tv_nsec = (long) ((t - (double) ts.tv_sec) * 1e9);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
    ;
}

// One fork + execve("/bin/true") + wait; 0 on success.
static int spawn_true(void) {
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    char* const args[] = {"/bin/true", NULL};
    char* const env[] = {NULL};
    execve("/bin/true", args, env);
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

// A worker's share: `count` spawns at `rate` per second (0: unthrottled),
// until `deadline`. Returns how many succeeded.
static long work(long count, double rate, double start, double deadline) {
  long done = 0;
  for (long i = 0; i < count; ++i) {
    if (rate > 0)
      sleep_until(start + (double) i / rate);
    if (now_seconds() >= deadline)
      break;
    if (spawn_true() == 0)
      ++done;
  }
  return done;
}

int main(int argc, char** argv) {
  double rate = 2000;
  long count = 20000;
  long jobs = 2;
  double seconds = 0;
  int opt;
  while ((opt = getopt(argc, argv, "r:n:j:t:")) != -1) {
    switch (opt) {
      case 'r':
        rate = atof(optarg);
        break;
      case 'n':
        count = atol(optarg);
        break;
      case 'j':
        jobs = atol(optarg);
        break;
      case 't':
        seconds = atof(optarg);
        break;
      default:
        fprintf(stderr,
                "usage: %s [-r RATE] [-n COUNT] [-j JOBS] [-t SECONDS]\n",
                argv[0]);
        return 2;
    }
  }
  if (jobs < 1 || count < 1 || rate < 0) {
    fprintf(stderr, "%s: need JOBS >= 1, COUNT >= 1, RATE >= 0\n", argv[0]);
    return 2;
  }
  // Workers report their counts here (shared, one slot each).
  long* done = mmap(NULL, sizeof(long) * (size_t) jobs,
                    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (done == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  double start = now_seconds() + 0.01;
  double deadline = seconds > 0 ? start + seconds : 1e300;
  for (long j = 0; j < jobs; ++j) {
    long share = count / jobs + (j < count % jobs ? 1 : 0);
    pid_t pid = fork();
    if (pid < 0) {
      perror("fork");
      return 1;
    }
    if (pid == 0) {
      // Offset the workers so that together they tick evenly.
      double first = start + (rate > 0 ? (double) j / rate : 0);
      done[j] = work(share, rate / (double) jobs, first, deadline);
      _exit(0);
    }
  }
  while (wait(NULL) > 0 || errno == EINTR)
    ;
  double elapsed = now_seconds() - start;
  long total = 0;
  for (long j = 0; j < jobs; ++j)
    total += done[j];
  printf("spawned: %ld\nseconds: %.3f\nrate: %.0f\n", total, elapsed,
         elapsed > 0 ? (double) total / elapsed : 0.0);
  return total == count || seconds > 0 ? 0 : 1;
}
