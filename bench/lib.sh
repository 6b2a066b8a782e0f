# Shared by bench/run and bench/parts/*: installing what a part needs, machine facts, medians.
# Sourced, not run.

bench_root=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
repo_root=${bench_root%/bench}

# need COMMAND:PACKAGE... installs the Debian packages whose command is missing (once per run).
need() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
  done
  ((${#missing[@]})) || return 0
  if [[ ! -f /tmp/.bench-apt-updated ]]; then
    apt-get update -qq && touch /tmp/.bench-apt-updated
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# median of the numbers on stdin, one per line.
median() {
  sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# note TEXT: progress on stderr, so that stdout stays a part's own.
note() {
  printf 'bench: %s\n' "$*" >&2
}
