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
build_empty_guard "$scratch"
seed_build "$scratch" || note "the seed's figures are skipped: $seed_skip"

# The guard's perf event with an empty program separates what the mechanism costs at each
# context switch from what the policy's program adds.
labels=(unguarded "perf event + empty program" "eventloop-guardian (default policy)")
wrappers=("" "$scratch/empty-guard" "$repo_root/eventloop-guardian -q")
empty=1 ours=2
if [[ -n $seed_runner ]]; then
  labels+=("seed runner")
  wrappers+=(seed_run)
fi
# The other mechanism (issue 10, item 5): one tracing program on the sched_switch tracepoint that
# acts only for threads marked in task storage (guard.SchedSwitchGuard, a prototype run through
# the test classes' MechanismRun), instead of a perf event on each guarded thread. Guarding
# pingpong's main thread; then guarding a sleeping process beside an unguarded pingpong, which
# is what the program costs every other process on the machine, since it runs at every switch.
switch_classes=$repo_root/target/test-classes
if [[ -f $switch_classes/dev/eventloopguardian/guard/MechanismRun.class && -f $repo_root/target/eventloop-guardian.jar ]]; then
  java_home=$(source "$repo_root/scripts/jdk.sh" && find_java_home)
  cat >"$scratch/switch-run" <<RUN
#!/usr/bin/env bash
exec "$java_home/bin/java" -XX:TieredStopAtLevel=1 --enable-native-access=ALL-UNNAMED \\
  -cp "$repo_root/target/eventloop-guardian.jar:$switch_classes" dev.eventloopguardian.guard.MechanismRun switch "\$@"
RUN
  chmod +x "$scratch/switch-run"
  labels+=("sched_switch tracepoint (guarded)" "sched_switch tracepoint, guarding another process")
  wrappers+=("$scratch/switch-run guard" "$scratch/switch-run other")
else
  note "the sched_switch figures are skipped: build the test classes first (mvn package -DskipTests)"
fi
# Placements, pinned, because left to the scheduler the threads share a CPU in some runs and
# not in others, and the rate jumps between two levels. Two CPUs: the main thread on one, the
# partner on another, so a round trip is mostly cross-CPU wake-ups, as between an event loop and
# its workers. One CPU: both on the same, so a round trip is two context switches and nothing
# else, the worst case for a guard that runs at each switch-out.
last_cpu=$(($(nproc) - 1))
placements=() main_cpus=() partner_cpus=()
if ((last_cpu > 0)); then
  placements+=("two CPUs") main_cpus+=(0) partner_cpus+=("$last_cpu")
fi
placements+=("one CPU") main_cpus+=("$last_cpu") partner_cpus+=("$last_cpu")

# rate CONFIGURATION PLACEMENT: round trips per second of one run.
rate() {
  local wrapper=() line
  [[ -n ${wrappers[$1]} ]] && read -ra wrapper <<<"${wrappers[$1]}"
  line=$("${wrapper[@]}" taskset -c "${main_cpus[$2]}" "$scratch/pingpong" -d "$seconds" -p "${partner_cpus[$2]}")
  per_second "$line"
}

runs=$BENCH_OUT/end-to-end-pingpong.runs # one line per run: placement, configuration, rate
: >"$runs"
for ((round = 1; round <= rounds; round++)); do
  note "end-to-end pingpong: round $round of $rounds"
  for p in "${!placements[@]}"; do
    for c in "${!labels[@]}"; do
      echo "$p $c $(rate "$c" "$p")" >>"$runs"
    done
  done
done

# rates PLACEMENT CONFIGURATION: the rate of each run.
rates() {
  awk -v p="$1" -v c="$2" '$1 == p && $2 == c { print $3 }' "$runs"
}
# slowdown PLACEMENT CONFIGURATION: percent below unguarded (negative: above).
slowdown() {
  awk -v v="$(rates "$1" "$2" | median)" -v b="$(rates "$1" 0 | median)" 'BEGIN { printf "%.1f", 100 * (1 - v / b) }'
}
# join SEPARATOR ITEMS...
join() {
  local separator=$1 out=$2
  shift 2
  for item; do out+=$separator$item; done
  echo "$out"
}
# said PERCENT: "N % below" or "N % above".
said() {
  awk -v d="$1" 'BEGIN { printf "%.1f %% %s", d < 0 ? -d : d, d < 0 ? "above" : "below" }'
}

echo "### Event-loop ping-pong"
echo
echo "Round trips per second of \`bench/workloads/pingpong.c\`: two threads waking each other through"
echo "eventfds, each sleeping in \`epoll_wait\`; the main thread is the guarded one. Each figure is the"
echo "median of $rounds runs of ${seconds} s, the configurations alternating run by run. The threads are pinned,"
echo "since left to the scheduler they share a CPU in some runs and not in others. *Two CPUs*: main"
echo "thread and partner on different CPUs, so a round trip is mostly cross-CPU wake-ups. *One CPU*:"
echo "both on one, so a round trip is two context switches and nothing else, the worst case for a"
echo "guard that runs at each switch-out. *Perf event + empty program* is the guard's perf event with"
echo "a program that only returns (\`bench/workloads/empty-guard.c\`): the mechanism without a policy."
echo
header="| |" rule="|---|"
for p in "${!placements[@]}"; do
  header+=" ${placements[$p]}: round trips/s | ratio |"
  rule+="---:|---:|"
done
echo "$header"
echo "$rule"
for c in "${!labels[@]}"; do
  row="| ${labels[$c]} |"
  for p in "${!placements[@]}"; do
    row+=$(awk -v v="$(rates "$p" "$c" | median)" -v b="$(rates "$p" 0 | median)" 'BEGIN { printf " %.0f | %.3f |", v, v / b }')
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

# Noise, to judge the ratios by: the spread of the unguarded runs, highest minus lowest, against
# their median.
spreads=()
for p in "${!placements[@]}"; do
  spreads+=("$(rates "$p" 0 | sort -g | awk -v m="$(rates "$p" 0 | median)" '{ v[NR] = $1 } END { printf "%.1f", 100 * (v[NR] - v[1]) / m }') % on ${placements[$p]}")
done
echo "Run-to-run spread of the unguarded runs (highest minus lowest, against their median): $(join ", " "${spreads[@]}")."
load_line
echo

# The target, for our default policy, with the share of the perf event alone beside it.
verdicts=() floors=()
for p in "${!placements[@]}"; do
  loss=$(slowdown "$p" "$ours")
  verdict="$(said "$loss") unguarded on ${placements[$p]} ("
  verdict+=$(awk -v d="$loss" 'BEGIN { print (d <= 1 ? "met" : "**missed**") }')")"
  verdicts+=("$verdict")
  floors+=("$(said "$(slowdown "$p" "$empty")") unguarded on ${placements[$p]}")
done
echo "**Target: within 1 % of unguarded.**"
no_verdict || {
  echo "Guarded by eventloop-guardian (default policy), the rate is"
  echo "$(join "; " "${verdicts[@]}")."
}
echo "The perf event with an empty program is"
echo "$(join "; " "${floors[@]}"): that part is the mechanism's, perf's work at each"
echo "context switch of the guarded thread and a program call, paid by any guard built on this event,"
echo "the seed included."

# The two mechanisms side by side, when the sched_switch prototype ran.
switch_guard="" switch_other=""
for c in "${!labels[@]}"; do
  [[ ${labels[$c]} == "sched_switch tracepoint (guarded)" ]] && switch_guard=$c
  [[ ${labels[$c]} == "sched_switch tracepoint, guarding another process" ]] && switch_other=$c
done
if [[ -n $switch_guard ]]; then
  echo
  mechanisms=()
  for p in "${!placements[@]}"; do
    mechanisms+=("on ${placements[$p]}, the perf event $(said "$(slowdown "$p" "$ours")"), the sched_switch program $(said "$(slowdown "$p" "$switch_guard")") unguarded, and an unguarded pingpong beside a guarded process $(said "$(slowdown "$p" "$switch_other")") unguarded")
  done
  echo "**Perf event per thread or one sched_switch program?** Guarding pingpong's main thread with the"
  echo "default policy: $(join "; " "${mechanisms[@]}"). The perf event costs only the threads that carry"
  echo "it, at each of their switches (perf's context-switch work, then the program); the sched_switch"
  echo "program costs every context switch on the machine a run to its first compares (the state, then"
  echo "the mark in task storage for a thread going to sleep), guarded or not, and costs a guarded thread"
  echo "no perf work. Both send the signal to the thread going to sleep: at sched_switch the current task"
  echo "is still \`prev\` (\`trace_sched_switch()\` comes before \`context_switch()\` in \`__schedule()\`), and"
  echo "\`SchedSwitchGuardTest\` checks the signal is pending on that thread and not on its process."
  echo "The perf event stays the default: it is the one that leaves every thread it is not on alone,"
  echo "where the sched_switch program takes from any process on the machine about what it saves the"
  echo "guarded one (compare its two rows). It is kept as a prototype (\`guard.SchedSwitchGuard\`) for a"
  echo "host given to the guarded service, where that trade could pay."
fi
