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

# The 1-minute load average. The parts print it at their start and end: on a machine shared with
# others' tests, figures taken under load are not comparable with quiet ones. It counts the
# benchmarks' own work too (pingpong keeps about one CPU busy, and the average lags a minute).
load_average() {
  cut -d' ' -f1 /proc/loadavg
}
load_at_start=$(load_average)

# load_line: a markdown line saying how busy the machine was.
load_line() {
  echo "Machine load (1-minute average, the benchmarks' own work included): $load_at_start when this started, $(load_average) when it ended."
}

# per_second LINE: the rate in pingpong's result line (round_trips=N seconds=S per_second=R).
per_second() {
  local rate=${1##*per_second=}
  [[ $1 == *per_second=* && $rate =~ ^[0-9]+$ ]] || { echo "bench: no rate in pingpong's output: '$1'" >&2; return 1; }
  echo "$rate"
}
