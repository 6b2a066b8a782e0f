# Shared by bench/run and bench/parts/*: installing what a part needs, machine facts, medians.
# Sourced, not run.

bench_root=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
repo_root=${bench_root%/bench}

# need COMMAND:PACKAGE... installs the Debian packages whose command is missing (once per run).
# COMMAND may be an absolute path instead, for packages without a command (headers, libraries).
need() {
  local missing=() pair what
  for pair in "$@"; do
    what=${pair%%:*}
    if [[ $what == /* ]]; then
      [[ -e $what ]] || missing+=("${pair#*:}")
    else
      command -v "$what" >/dev/null || missing+=("${pair#*:}")
    fi
  done
  ((${#missing[@]})) || return 0
  if [[ ! -f /tmp/.bench-apt-updated ]]; then
    apt-get update -qq && touch /tmp/.bench-apt-updated
  fi
  # Others may be installing on a shared machine: wait for dpkg's lock rather than fail.
  DEBIAN_FRONTEND=noninteractive apt-get install -o DPkg::Lock::Timeout=600 -y -qq "${missing[@]}" >/dev/null
}

# median of the numbers on stdin, one per line.
median() {
  sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# note TEXT: progress on stderr, so that stdout stays a part's own.
note() {
  printf 'bench: %s\n' "$*" >&2
}
