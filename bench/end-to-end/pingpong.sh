#!/usr/bin/env bash
# End-to-end: pingpong round trips per second, unguarded, guarded by us (default policy) and by
# the seed's runner. Prints a markdown section on stdout (run by bench/parts/end-to-end).
set -euo pipefail
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=bench/lib.sh
source "$here/../lib.sh"
# shellcheck source=bench/workloads.sh
source "$bench_root/workloads.sh"
# shellcheck source=bench/seed.sh
source "$bench_root/seed.sh"
cd "$repo_root"

# Rounds alternate the configurations run by run, so that a slow spell of a shared machine
# hits them all alike.
if [[ -n ${BENCH_QUICK:-} ]]; then rounds=2 seconds=0.5; else rounds=7 seconds=3; fi

scratch=$(scratch_dir)
cleanup() {
  seed_restore
  rm -rf "$scratch"
}
trap cleanup EXIT
build_pingpong "$scratch"
build_perf_event_only "$scratch"
seed_build "$scratch" || note "the seed's figures are skipped: $seed_skip"

# The guard's perf event without a program separates what perf itself costs at each context
# switch from what the program costs.
labels=(unguarded "perf event only, no program" "eventloop-guardian (default policy)")
wrappers=("" "$scratch/perf-event-only" "$repo_root/eventloop-guardian -q")
perf_only=1 ours=2
if [[ -n $seed_runner ]]; then
  labels+=("seed runner")
  wrappers+=(seed_run)
fi
# Two placements. Free: the threads run where the scheduler puts them, usually one per CPU, and
# a round trip is mostly cross-CPU wake-ups. Pinned to one CPU: a round trip is two context
# switches and nothing else, the worst case for a guard that runs at each switch-out.
cpu=$(($(nproc) - 1))
placements=(free "one CPU")
pins=("" "taskset -c $cpu")

# rate WRAPPER PIN: round trips per second of one run.
rate() {
  local wrapper=() pin=() line
  [[ -n $1 ]] && read -ra wrapper <<<"$1"
  [[ -n $2 ]] && read -ra pin <<<"$2"
  line=$("${wrapper[@]}" "${pin[@]}" "$scratch/pingpong" -d "$seconds")
  per_second "$line"
}

runs=$BENCH_OUT/end-to-end-pingpong.runs # one line per run: placement, configuration, rate
: >"$runs"
for ((round = 1; round <= rounds; round++)); do
  note "end-to-end pingpong: round $round of $rounds"
  for p in "${!placements[@]}"; do
    for c in "${!labels[@]}"; do
      echo "$p $c $(rate "${wrappers[$c]}" "${pins[$p]}")" >>"$runs"
    done
  done
done

# median_rate PLACEMENT CONFIGURATION
median_rate() {
  awk -v p="$1" -v c="$2" '$1 == p && $2 == c { print $3 }' "$runs" | median
}

echo "### Event-loop ping-pong"
echo
echo "Round trips per second of \`bench/workloads/pingpong.c\` (two threads waking each other"
echo "through eventfds, each sleeping in \`epoll_wait\`; the main thread is the guarded one), each"
echo "figure the median of $rounds runs of ${seconds} s, the configurations alternating run by run."
echo "*Free*: the scheduler places the threads (on this $(nproc)-CPU machine, mostly one per CPU, so a"
echo "round trip is mostly cross-CPU wake-ups). *One CPU*: both pinned to CPU $cpu with \`taskset\`, so a"
echo "round trip is two context switches and nothing else: the worst case for a guard that runs at"
echo "each switch-out."
echo
echo "| | ${placements[0]}: round trips/s | ratio | ${placements[1]}: round trips/s | ratio |"
echo "|---|---:|---:|---:|---:|"
# slowdown PLACEMENT CONFIGURATION: percent below unguarded (negative: above).
slowdown() {
  awk -v v="$(median_rate "$1" "$2")" -v b="$(median_rate "$1" 0)" 'BEGIN { printf "%.1f", 100 * (1 - v / b) }'
}
for c in "${!labels[@]}"; do
  row="| ${labels[$c]} |"
  for p in "${!placements[@]}"; do
    row+=$(awk -v v="$(median_rate "$p" "$c")" -v b="$(median_rate "$p" 0)" 'BEGIN { printf " %.0f | %.3f |", v, v / b }')
  done
  echo "$row"
done
echo
if [[ -n $seed_runner ]]; then
  echo "The seed's runner runs as \`$seed_user\` with file capabilities (see the program cost section: run by root it guards nothing)."
else
  echo "**The seed's figures are skipped:** $seed_skip."
fi
echo

# Noise, to judge the ratios by: the spread of the unguarded runs, lowest to highest, against
# their median.
spread() {
  awk -v p="$1" '$1 == p && $2 == 0 { print $3 }' "$runs" | sort -g |
    awk -v m="$(median_rate "$1" 0)" '{ v[NR] = $1 } END { printf "%.1f", 100 * (v[NR] - v[1]) / m }'
}
echo "Run-to-run spread of the unguarded runs (highest minus lowest, against their median): $(spread 0) % free, $(spread 1) % on one CPU."
echo

# The target, for our default policy, with the share of the perf event alone beside it.
awk -v f="$(slowdown 0 "$ours")" -v o="$(slowdown 1 "$ours")" -v pf="$(slowdown 0 "$perf_only")" -v po="$(slowdown 1 "$perf_only")" '
  function said(loss) { return sprintf("%.1f %% %s", loss < 0 ? -loss : loss, loss < 0 ? "above" : "below") }
  BEGIN {
    printf "**Target: within 1 %% of unguarded.** Guarded by eventloop-guardian, the rate is %s unguarded with the threads free", said(f)
    printf " (%s), and %s pinned to one CPU (%s). ", f <= 1 ? "met" : "**missed**", said(o), o <= 1 ? "met" : "**missed**"
    printf "The perf event alone, with no program, is %s unguarded free and %s on one CPU: ", said(pf), said(po)
    printf "that part is perf'"'"'s own work at each context switch, paid by any guard built on this event, the seed included.\n"
  }'
