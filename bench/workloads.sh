# shellcheck shell=bash disable=SC2154 # bench_root, repo_root: from lib.sh
# Building and running the workloads under bench/workloads. Sourced after lib.sh, not run.

# Parts can also be run alone (bench/parts/launch), without bench/run's environment.
: "${BENCH_OUT:=$repo_root/target/bench}"
: "${BENCH_PLOTS:=$repo_root/docs/bench}"
mkdir -p "$BENCH_OUT" "$BENCH_PLOTS"

# scratch_dir: a new directory that every user may enter and read, since the seed runs its
# workload as an ordinary user (see seed.sh) and the checkout may live where it cannot go.
scratch_dir() {
  local dir
  dir=$(mktemp -d /tmp/bench.XXXXXX)
  chmod 755 "$dir"
  echo "$dir"
}

# build_pingpong DIR: compiles bench/workloads/pingpong.c to DIR/pingpong.
build_pingpong() {
  need cc:gcc
  cc -O2 -Wall -Wextra -pthread -o "$1/pingpong" "$bench_root/workloads/pingpong.c"
}

# build_empty_guard DIR: compiles bench/workloads/empty-guard.c to DIR/empty-guard.
build_empty_guard() {
  need cc:gcc
  cc -O2 -Wall -Wextra -o "$1/empty-guard" "$bench_root/workloads/empty-guard.c"
}

# build_storm DIR: compiles bench/workloads/storm.c to DIR/storm.
build_storm() {
  need cc:gcc
  cc -O2 -Wall -Wextra -pthread -o "$1/storm" "$bench_root/workloads/storm.c"
}

# build_pipe_storm DIR: compiles bench/workloads/pipe-storm.c to DIR/pipe-storm.
build_pipe_storm() {
  need cc:gcc
  cc -O2 -Wall -Wextra -pthread -o "$1/pipe-storm" "$bench_root/workloads/pipe-storm.c"
}

# The 1-minute load average. The parts print it at their start and end: on a machine shared with
# others' tests, figures taken under load are not comparable with quiet ones. It counts the
# benchmarks' own work too (pingpong keeps about one CPU busy, and the average lags a minute).
load_average() {
  cut -d' ' -f1 /proc/loadavg
}

# cpu_pressure: the kernel's CPU pressure (PSI), the share of the last 10 s in which some
# runnable task waited for a CPU, in percent. Unlike the load average it does not lag a minute
# behind, so after a few quiet seconds it says whether others use the machine.
cpu_pressure() {
  awk '/^some/ { sub("avg10=", "", $2); print $2 }' /proc/pressure/cpu 2>/dev/null || echo unknown
}

# settle: waits (at most 60 s) for the machine to be quiet before a part measures, and sets
# machine_busy to why it was not ("" when it was): CPU pressure of 5 % or more over 10 s with
# nothing of ours running means somebody else's work competes with the figures. A part that
# finds it busy still measures and prints its figures, but no verdict against its target.
machine_busy=""
settle() {
  local waited pressure
  for ((waited = 0; waited < 60; waited += 5)); do
    pressure=$(cpu_pressure)
    [[ $pressure == unknown ]] && { machine_busy=""; return; }
    awk -v p="$pressure" 'BEGIN { exit !(p < 5) }' && { machine_busy=""; return; }
    sleep 5
  done
  machine_busy="other work kept the CPUs busy before it started (CPU pressure $pressure % over 10 s, 1-minute load $(load_average))"
}
settle
load_at_start=$(load_average)
pressure_at_start=$(cpu_pressure)

# load_line: a markdown line saying how busy the machine was.
load_line() {
  echo "Machine load: 1-minute average $load_at_start when this started and $(load_average) when it ended (the benchmarks' own work included); CPU pressure before it started, with nothing of ours running: $pressure_at_start % of the last 10 s."
}

# no_verdict: on a busy machine, says why there is no verdict against the target and succeeds;
# on a quiet one it says nothing and fails, and the verdict follows: `no_verdict || ...`.
no_verdict() {
  [[ -n $machine_busy ]] || return 1
  echo "**No verdict:** $machine_busy; run \`bench/run\` again on a quiet machine."
}

# verdict TEXT...: prints the verdict against a target, or, on a busy machine, why there is none.
verdict() {
  no_verdict || echo "$@"
}

# per_second LINE: the rate in pingpong's result line (round_trips=N seconds=S per_second=R).
per_second() {
  local rate=${1##*per_second=}
  [[ $1 == *per_second=* && $rate =~ ^[0-9]+$ ]] || { echo "bench: no rate in pingpong's output: '$1'" >&2; return 1; }
  echo "$rate"
}
