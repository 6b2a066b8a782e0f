// empty-guard COMMAND...: runs COMMAND with the guard's perf event and an empty program.
//
// Opens the event the way eventloop-guardian does (a software context-switch event on this
// thread, sample_period 1, disabled until exec: enable_on_exec), attaches a program that only
// returns 0, and execs COMMAND. What this costs against an unguarded command is the mechanism
// itself, perf's work at each context switch plus a program call, which any guard built on this
// event pays, the seed included; what a guarded command costs beyond it is the policy's
// program. Loaded with bpf(2) directly: no libbpf. Needs CAP_BPF and CAP_PERFMON (root).
#define _GNU_SOURCE
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: empty-guard COMMAND [ARGS...]\n");
    return 64;
  }
  struct bpf_insn program[] = {
      {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0}, // r0 = 0
      {.code = BPF_JMP | BPF_EXIT},                                          // exit
  };
  union bpf_attr load;
  memset(&load, 0, sizeof load);
  load.prog_type = BPF_PROG_TYPE_PERF_EVENT;
  load.insn_cnt = sizeof program / sizeof program[0];
  load.insns = (uint64_t)(uintptr_t)program;
  load.license = (uint64_t)(uintptr_t) "GPL";
  strcpy(load.prog_name, "empty_guard");
  int program_fd = syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load);
  if (program_fd < 0) {
    perror("empty-guard: bpf(BPF_PROG_LOAD)");
    return 77;
  }

  struct perf_event_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.type = PERF_TYPE_SOFTWARE;
  attr.size = sizeof attr;
  attr.config = PERF_COUNT_SW_CONTEXT_SWITCHES;
  attr.sample_period = 1;
  attr.disabled = 1;
  attr.enable_on_exec = 1;
  // Left open across exec: the event lives as long as its descriptor, the program as its event.
  int event_fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
  if (event_fd < 0) {
    perror("empty-guard: perf_event_open");
    return 77;
  }
  if (ioctl(event_fd, PERF_EVENT_IOC_SET_BPF, program_fd) < 0) {
    perror("empty-guard: ioctl(PERF_EVENT_IOC_SET_BPF)");
    return 77;
  }
  close(program_fd);
  execvp(argv[1], argv + 1);
  perror("empty-guard: execvp");
  return 127;
}
