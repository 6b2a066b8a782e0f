# shellcheck shell=bash disable=SC2034 # the seed_* variables are read by the parts
# The seed: the article's clang-built eBPF program and its C runner (libbpf), extracted from the
# article's text and built at run time, so that no seed code lives in this repository.
# Sourced after lib.sh and workloads.sh, not run.
#
#   seed_build SCRATCH || note "seed skipped: $seed_skip"
#   seed_run COMMAND...        COMMAND guarded by the seed's runner
#   seed_paranoid_low, seed_paranoid_restore
#                              around a run of the runner that does not go through seed_run
#   seed_restore               undo what the seed changed (call it from an EXIT trap)

seed_article=${SEED_ARTICLE:-/work/shared/reference/wrangling-event-loops-with-perf-and-ebpf.txt}
# Run by root, the runner drops its capabilities and execs; the exec gives root's back, the
# kernel marks the new image non-dumpable and tears its perf events down: COMMAND runs
# unguarded and nothing says so (design.md). So we run it as the article means it to run: as
# an ordinary user, with cap_bpf and cap_perfmon as file capabilities on the runner.
seed_user=${SEED_USER:-nobody}
seed_program=check_and_signal # its name in bpftool (the kernel keeps 15 characters, BTF all)
seed_runner=""                # set by seed_build when the seed is ready
seed_skip=""                  # otherwise, why the seed's figures are missing
seed_root_status=""           # exit status of `sleep 0.1` under the seed run by root
seed_original_paranoid=""    # kernel.perf_event_paranoid before we lowered it

# seed_extract START STOP: the article's lines from the line START up to (without) the first
# line that begins with STOP, the prose after the listing.
seed_extract() {
  awk -v start="$1" -v stop="$2" 'on && index($0, stop) == 1 { exit } $0 == start { on = 1 } on' "$seed_article"
}

# seed_build SCRATCH: builds the seed in $BENCH_OUT/seed, puts the runner with its file
# capabilities in SCRATCH (which seed_user can enter), and proves the runner guards: a guarded
# `sleep 0.1` must die of SIGABRT.
# Returns 1 with seed_skip set when any step fails. Called as a condition, so set -e is off
# here: every step is checked.
seed_build() {
  local scratch=$1 dir=$BENCH_OUT/seed status
  if [[ ! -r $seed_article ]]; then
    seed_skip="the article with the seed's code ($seed_article) is missing; set SEED_ARTICLE to its path"
    return 1
  fi
  mkdir -p "$dir" || return 1
  seed_extract '// bpf_program.c' 'Once compiled' >"$dir/bpf_program.c"
  seed_extract '// bpf.S' 'The runner looks like below' >"$dir/bpf.S"
  seed_extract '// eventloop-guardian.c' 'As you can see' >"$dir/eventloop-guardian.c"
  if ! grep -q check_and_signal "$dir/bpf_program.c" || ! grep -q incbin "$dir/bpf.S" ||
    ! grep -q execvp "$dir/eventloop-guardian.c"; then
    seed_skip="the seed's listings were not found in $seed_article"
    return 1
  fi
  need clang:clang ld.lld:lld bpftool:bpftool setcap:libcap2-bin setpriv:util-linux \
    /usr/include/bpf/libbpf.h:libbpf-dev /usr/include/sys/capability.h:libcap-dev || {
    seed_skip="could not install clang, lld, bpftool, libbpf-dev or libcap-dev"
    return 1
  }

  # The article's commands, with two additions for Debian: the BPF target does not search the
  # multiarch include directory where <asm/unistd.h> lives, and headers older than Linux 6.7
  # lack __NR_futex_wait (455 on every architecture).
  local cflags=(-O2 -g -target bpf -I"/usr/include/$(uname -m)-linux-gnu")
  if ! printf '#include <asm/unistd.h>\n#ifndef __NR_futex_wait\n#error\n#endif\n' |
    cc -E -I"/usr/include/$(uname -m)-linux-gnu" - >/dev/null 2>&1; then
    cflags+=(-D__NR_futex_wait=455)
  fi
  if ! (cd "$dir" &&
    bpftool btf dump file /sys/kernel/btf/vmlinux format c >vmlinux.h &&
    clang "${cflags[@]}" -c bpf_program.c -o bpf_program.o &&
    clang -fuse-ld=lld -o eventloop-guardian eventloop-guardian.c bpf.S -lbpf -lcap) >"$dir/build.log" 2>&1; then
    seed_skip="the seed did not build (log: ${dir#"$repo_root"/})"
    return 1
  fi

  if ! cp "$dir/eventloop-guardian" "$scratch/seed-runner" || ! setcap cap_bpf,cap_perfmon+ep "$scratch/seed-runner"; then
    seed_skip="could not give the seed's runner its file capabilities"
    return 1
  fi
  seed_original_paranoid=$(sysctl -n kernel.perf_event_paranoid)
  seed_runner=$scratch/seed-runner

  # Guarded, `sleep` sleeps in clock_nanosleep and is stopped: 128 + SIGABRT (6).
  # (The braces keep bash's "Aborted" message out of the output.)
  { seed_run sleep 0.1; } >/dev/null 2>&1
  status=$?
  if ((status != 134)); then
    seed_skip="the seed's runner, run as $seed_user, did not stop a guarded 'sleep 0.1' (exit status $status)"
    seed_runner=""
    return 1
  fi
  # The privilege bug, for the record: as root, in the same conditions, the same command runs
  # to the end.
  seed_paranoid_low
  { (ulimit -c 0 && exec "$dir/eventloop-guardian" sleep 0.1); } >/dev/null 2>&1
  seed_root_status=$?
  seed_paranoid_restore
  return 0
}

# seed_run COMMAND...: runs COMMAND guarded by the seed, as seed_user with no supplementary
# groups; the runner gets its capabilities from the file. No core dumps: a stopped command is
# an expected result here.
seed_run() {
  local status=0
  seed_paranoid_low
  (
    ulimit -c 0
    exec setpriv --reuid="$seed_user" --regid="$(id -g "$seed_user")" --clear-groups -- "$seed_runner" "$@"
  ) || status=$?
  seed_paranoid_restore
  return "$status"
}

# The runner opens its perf event after dropping its capabilities, which needs
# kernel.perf_event_paranoid <= 1 (the default is 2). It is a machine-wide setting that others'
# tests may look at, so it is lowered only while the seed runs.
seed_paranoid_low() {
  ((seed_original_paranoid <= 1)) || sysctl -qw kernel.perf_event_paranoid=1
}
seed_paranoid_restore() {
  [[ -z $seed_original_paranoid ]] || sysctl -qw kernel.perf_event_paranoid="$seed_original_paranoid"
}

seed_restore() {
  seed_paranoid_restore
}
