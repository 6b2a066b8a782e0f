# Sourced by ./eventloop-guardian and ./run-tests: finds a JDK 25 or newer without starting a
# JVM (a `java -version` probe would cost tens of milliseconds on every launch).
min_java=25

# The feature version of the JDK at $1, read from its release file.
java_version() {
  local release="$1/release" line
  [[ -x "$1/bin/java" && -r $release ]] || return 1
  while IFS= read -r line; do
    if [[ $line == JAVA_VERSION=* ]]; then
      line=${line#*=\"}
      echo "${line%%[.\"]*}"
      return 0
    fi
  done <"$release"
  return 1
}

# Prints the JDK home to use: JAVA_HOME, then the java on PATH, then the newest under /usr/lib/jvm.
find_java_home() {
  local candidate version best="" best_version=0
  if [[ -n ${JAVA_HOME:-} ]] && version=$(java_version "$JAVA_HOME") && ((version >= min_java)); then
    echo "$JAVA_HOME"
    return
  fi
  if candidate=$(command -v java 2>/dev/null); then
    [[ -L $candidate ]] && candidate=$(readlink -f "$candidate")
    candidate=${candidate%/bin/java}
    if version=$(java_version "$candidate") && ((version >= min_java)); then
      echo "$candidate"
      return
    fi
  fi
  for candidate in /usr/lib/jvm/*; do
    if version=$(java_version "$candidate") && ((version >= min_java && version > best_version)); then
      best=$candidate
      best_version=$version
    fi
  done
  [[ -n $best ]] && echo "$best"
}

# Explains what is missing; callers exit with 69 (EX_UNAVAILABLE) after it.
no_java_message() {
  printf 'eventloop-guardian: needs a JDK %s or newer, and found none (JAVA_HOME=%s; java on PATH: %s).\n' \
    "$min_java" "${JAVA_HOME:-unset}" "$(java -version 2>&1 | head -n1 || echo missing)"
  printf 'Install one (e.g. Temurin %s under /usr/lib/jvm) or point JAVA_HOME at it.\n' "$min_java"
}
