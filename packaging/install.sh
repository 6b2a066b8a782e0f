#!/usr/bin/env bash
# Installs eventloop-guardian from its release archive (mvn package writes
# target/eventloop-guardian-VERSION.tar.gz): run it from the unpacked directory, as root for the
# default prefix.
#
#   ./install.sh [--prefix DIR] [--sysconfdir DIR] [--uninstall]
#
#   PREFIX/bin/eventloop-guardian                      -> ../lib/eventloop-guardian/eventloop-guardian
#   PREFIX/lib/eventloop-guardian/                     the launcher, scripts/, target/ (jar, lib/, AOT cache)
#   PREFIX/share/man/man1/eventloop-guardian.1
#   PREFIX/share/bash-completion/completions/eventloop-guardian
#   PREFIX/share/zsh/site-functions/_eventloop-guardian
#   PREFIX/lib/systemd/system/eventloop-guardian.service   (ExecStart: PREFIX/bin/eventloop-guardian watch)
#   SYSCONFDIR/eventloop-guardian/watch.toml           (an example; an existing one is kept)
#
# SYSCONFDIR is /etc for the prefixes /usr and /usr/local (where `watch` looks by default),
# PREFIX/etc otherwise. The launcher is the checkout's own, so the installed tree keeps its layout
# (the jar under target/). Nothing is started or enabled: the last lines say how.
set -euo pipefail

usage() {
  printf 'usage: ./install.sh [--prefix DIR] [--sysconfdir DIR] [--uninstall]\n' >&2
  exit 64
}

prefix=/usr/local
sysconfdir=
uninstall=0
while (($#)); do
  case $1 in
    --prefix) (($# >= 2)) || usage; prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#*=}; shift ;;
    --sysconfdir) (($# >= 2)) || usage; sysconfdir=$2; shift 2 ;;
    --sysconfdir=*) sysconfdir=${1#*=}; shift ;;
    --uninstall) uninstall=1; shift ;;
    -h | --help) usage ;;
    *) printf 'install.sh: unknown argument %s\n' "$1" >&2; usage ;;
  esac
done
[[ $prefix == /* ]] || prefix=$PWD/$prefix
prefix=${prefix%/}
if [[ -z $sysconfdir ]]; then
  case $prefix in
    /usr | /usr/local) sysconfdir=/etc ;;
    *) sysconfdir=$prefix/etc ;;
  esac
fi

source_dir=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
home=$prefix/lib/eventloop-guardian
bin=$prefix/bin/eventloop-guardian
man=$prefix/share/man/man1/eventloop-guardian.1
bash_completion=$prefix/share/bash-completion/completions/eventloop-guardian
zsh_completion=$prefix/share/zsh/site-functions/_eventloop-guardian
unit=$prefix/lib/systemd/system/eventloop-guardian.service
config=$sysconfdir/eventloop-guardian/watch.toml

if ((uninstall)); then
  rm -rf "$home"
  rm -f "$bin" "$man" "$bash_completion" "$zsh_completion" "$unit"
  printf 'eventloop-guardian: uninstalled from %s' "$prefix"
  [[ -f $config ]] && printf ' (kept your %s)' "$config"
  printf '\n'
  exit 0
fi

[[ -f $source_dir/target/eventloop-guardian.jar ]] ||
  { printf 'install.sh: run it from the unpacked release archive (no target/eventloop-guardian.jar beside it)\n' >&2; exit 66; }

# A fresh copy of the application: an upgrade leaves no library of the old version behind.
rm -rf "$home"
install -d "$home/scripts" "$home/target/lib" "${bin%/*}" "${man%/*}" "${bash_completion%/*}" \
  "${zsh_completion%/*}" "${unit%/*}"
install -m 755 "$source_dir/eventloop-guardian" "$home/eventloop-guardian"
install -m 644 "$source_dir"/scripts/* "$home/scripts/"
install -m 644 "$source_dir/target/eventloop-guardian.jar" "$home/target/"
install -m 644 "$source_dir"/target/lib/*.jar "$home/target/lib/"
ln -sfn ../lib/eventloop-guardian/eventloop-guardian "$bin"
install -m 644 "$source_dir/man/eventloop-guardian.1" "$man"
install -m 644 "$source_dir/completion/eventloop-guardian.bash" "$bash_completion"
sed "s|@BASH_COMPLETION@|$bash_completion|" "$source_dir/completion/_eventloop-guardian" >"$zsh_completion"
chmod 644 "$zsh_completion"
# The unit names the default paths; this installation's replace them.
sed -e "s|/usr/local/bin/eventloop-guardian|$bin|g" -e "s|/etc/eventloop-guardian/watch.toml|$config|g" \
  "$source_dir/systemd/eventloop-guardian.service" >"$unit"
chmod 644 "$unit"
if [[ -e $config ]]; then
  printf 'eventloop-guardian: kept the existing %s (the example is %s)\n' "$config" "$source_dir/watch.toml"
else
  install -d "${config%/*}"
  install -m 644 "$source_dir/watch.toml" "$config"
fi

# The launcher keeps a JDK AOT cache beside the jar (it cuts launch time), made by a training run
# the first time it finds none. Made here, by the installer, who can write the directory: users
# and the service's own user cannot, and the launcher then goes without one rather than retrain.
if "$bin" --version >/dev/null 2>&1 && [[ -f $home/target/eventloop-guardian.aot ]]; then
  aot="made $home/target/eventloop-guardian.aot"
else
  aot="made no AOT cache: no JDK 25 was found to run it (the launcher runs without one, only slower to start)"
fi

printf 'eventloop-guardian: installed in %s (%s)\n' "$prefix" "$aot"
printf '  run:     %s --version\n' "$bin"
printf '  manual:  man %s\n' "$( [[ $prefix == /usr || $prefix == /usr/local ]] && echo eventloop-guardian || echo "-l $man")"
printf '  service: edit %s, then: systemctl daemon-reload && systemctl enable --now eventloop-guardian\n' "$config"
