# Sourced by ./eventloop-guardian, ./run-tests, .ci/run and the benchmarks: finds a JDK 25 or
# newer without starting a JVM (a `java -version` probe would cost tens of milliseconds on
# every launch) and without a subshell (each costs milliseconds of the launch too).
min_java=25

# java_version DIR: sets REPLY to the feature version of the JDK at DIR, read from its release
# file; returns 1 when DIR is not a JDK.
java_version() {
  local release="$1/release" line
  REPLY=""
  [[ -x "$1/bin/java" && -r $release ]] || return 1
  while IFS= read -r line; do
    if [[ $line == JAVA_VERSION=* ]]; then
      line=${line#*=\"}
      REPLY=${line%%[.\"]*}
      return 0
    fi
  done <"$release"
  return 1
}

# locate_java_home: sets java_home to the JDK to use: JAVA_HOME, then the java on PATH, then
# the newest under /usr/lib/jvm; returns 1, with java_home empty, when none is 25 or newer.
locate_java_home() {
  local candidate best="" best_version=0
  java_home=""
  if [[ -n ${JAVA_HOME:-} ]] && java_version "$JAVA_HOME" && ((REPLY >= min_java)); then
    java_home=$JAVA_HOME
    return 0
  fi
  if path_java; then
    candidate=$REPLY
    if java_version "$candidate" && ((REPLY >= min_java)); then
      java_home=$candidate
      return 0
    fi
  fi
  for candidate in /usr/lib/jvm/*; do
    if java_version "$candidate" && ((REPLY >= min_java && REPLY > best_version)); then
      best=$candidate
      best_version=$REPLY
    fi
  done
  java_home=$best
  [[ -n $best ]]
}

# path_java: sets REPLY to the JDK home of the first java on PATH; returns 1 when there is none.
# Found and followed without forking (the two forks, $(command -v) and readlink, cost a launch
# about 6 ms): a java that is a link, as Debian's alternatives make it, is told by its inode
# among /usr/lib/jvm's JDKs; only a link to elsewhere is followed with readlink.
path_java() {
  local dir jdk IFS=:
  REPLY=""
  for dir in $PATH; do
    if [[ -f ${dir:-.}/java && -x ${dir:-.}/java ]]; then
      REPLY=${dir:-.}/java
      break
    fi
  done
  [[ -n $REPLY ]] || return 1
  if [[ -L $REPLY ]]; then
    for jdk in /usr/lib/jvm/*; do
      if [[ $jdk/bin/java -ef $REPLY ]]; then
        REPLY=$jdk
        return 0
      fi
    done
    REPLY=$(readlink -f "$REPLY")
  fi
  REPLY=${REPLY%/bin/java}
}

# Prints the JDK home locate_java_home finds, for callers that want it as a word.
find_java_home() {
  locate_java_home && echo "$java_home"
}

# Explains what is missing; callers exit with 69 (EX_UNAVAILABLE) after it.
no_java_message() {
  printf 'eventloop-guardian: needs a JDK %s or newer, and found none (JAVA_HOME=%s; java on PATH: %s).\n' \
    "$min_java" "${JAVA_HOME:-unset}" "$(java -version 2>&1 | head -n1 || echo missing)"
  printf 'Install one (e.g. Temurin %s under /usr/lib/jvm) or point JAVA_HOME at it.\n' "$min_java"
}
