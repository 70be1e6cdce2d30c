#!/bin/sh
# fetch_text.sh - make sure the Debian packages that hold the benchmarks' real
# text are installed: English manual pages (manpages, manpages-dev and the
# pages of every installed package), Chinese manual pages (manpages-zh),
# Chinese fortunes (fortunes-zh), the renderer (man-db, groff-base, col from
# bsdextrautils) and SQLite for the FTS5 side (sqlite3, libsqlite3-dev).
# No text is generated: every benchmark corpus is assembled from these.
#
# Uses apt-get; as root directly, otherwise through sudo.  Idempotent.
set -eu

pkgs="manpages manpages-dev manpages-zh fortunes-zh man-db groff-base bsdextrautils
      sqlite3 libsqlite3-dev python3"

missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
echo "fetch_text.sh: installing$missing" >&2
$SUDO apt-get update -qq
# Debian's docker-style images exclude /usr/share/man via dpkg path filters;
# lift that for manual pages so the packages really install their text.
if [ -f /etc/dpkg/dpkg.cfg.d/docker ] && grep -q 'usr/share/man' /etc/dpkg/dpkg.cfg.d/docker; then
    $SUDO sed -i '/usr\/share\/man/d' /etc/dpkg/dpkg.cfg.d/docker
fi
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
