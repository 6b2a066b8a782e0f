// perf-event-only COMMAND...: runs COMMAND with the guard's perf event and no program.
//
// Opens the event the way eventloop-guardian does (a software context-switch event on this
// thread, sample_period 1, disabled until exec: enable_on_exec), attaches nothing, and execs
// COMMAND. What a guarded command pays beyond this is the program; what this pays against an
// unguarded command is perf's own work at each context switch, which any guard built on this
// event pays.
#define _GNU_SOURCE
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: perf-event-only COMMAND [ARGS...]\n");
    return 64;
  }
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.type = PERF_TYPE_SOFTWARE;
  attr.size = sizeof attr;
  attr.config = PERF_COUNT_SW_CONTEXT_SWITCHES;
  attr.sample_period = 1;
  attr.disabled = 1;
  attr.enable_on_exec = 1;
  // Left open across exec: the event lives as long as its descriptor.
  if (syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0) < 0) {
    perror("perf-event-only: perf_event_open");
    return 77;
  }
  execvp(argv[1], argv + 1);
  perror("perf-event-only: execvp");
  return 127;
}
