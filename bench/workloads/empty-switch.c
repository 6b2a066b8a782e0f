// empty-switch BTF_ID COMMAND...: runs COMMAND with a program that only returns on sched_switch.
//
// Loads `r0 = 0; exit` as a tracing program for the raw tracepoint whose vmlinux BTF type id
// (of the typedef btf_trace_sched_switch) is BTF_ID, attaches it (BPF_RAW_TRACEPOINT_OPEN), and
// runs COMMAND, detaching when it ends. Its cost per switch is the floor of any program on that
// tracepoint, watch's included: the tracepoint's call into BPF, and the statistics' own timing
// of it when kernel.bpf_stats_enabled=1. Loaded with bpf(2) directly: no libbpf. Needs CAP_BPF
// and CAP_PERFMON (root).
#define _GNU_SOURCE
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: empty-switch BTF_ID COMMAND [ARGS...]\n");
    return 64;
  }
  struct bpf_insn program[] = {
      {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0}, // r0 = 0
      {.code = BPF_JMP | BPF_EXIT},                                          // exit
  };
  union bpf_attr load;
  memset(&load, 0, sizeof load);
  load.prog_type = BPF_PROG_TYPE_TRACING;
  load.expected_attach_type = BPF_TRACE_RAW_TP;
  load.attach_btf_id = (uint32_t)strtoul(argv[1], NULL, 10);
  load.insn_cnt = sizeof program / sizeof program[0];
  load.insns = (uint64_t)(uintptr_t)program;
  load.license = (uint64_t)(uintptr_t) "GPL";
  strcpy(load.prog_name, "empty_switch");
  int program_fd = syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load);
  if (program_fd < 0) {
    perror("empty-switch: bpf(BPF_PROG_LOAD)");
    return 77;
  }
  union bpf_attr open;
  memset(&open, 0, sizeof open);
  open.raw_tracepoint.prog_fd = program_fd;
  int link_fd = syscall(SYS_bpf, BPF_RAW_TRACEPOINT_OPEN, &open, sizeof open);
  if (link_fd < 0) {
    perror("empty-switch: bpf(BPF_RAW_TRACEPOINT_OPEN)");
    return 77;
  }
  pid_t child = fork();
  if (child == 0) {
    execvp(argv[2], argv + 2);
    perror("empty-switch: execvp");
    _exit(127);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
