#!/bin/sh
# make_real.sh - regenerate tests/data/real/{en_man.txt,zh.txt,bilingual.md}
# from Debian packages (see README.md beside this script).
#
#   tests/data/real/make_real.sh [BUILD_DIR]
#
# BUILD_DIR (default build-bench) holds the cache of rendered pages and, when
# it has been built, tests/bench/bench_corpus_check, which then verifies that
# bilingual.md loads without errors.  Deterministic: the same package
# versions give byte-identical files.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=${1:-$root/build-bench}

sh "$root/tests/bench/fetch_text.sh"
mkdir -p "$build"
python3 "$root/tests/bench/gen_corpus.py" --cache "$build/man-cache" \
    real "$here" --packages "$build/real-packages.json"

check="$build/tests/bench/bench_corpus_check"
if [ -x "$check" ]; then
    "$check" "$here/bilingual.md"
else
    echo "make_real.sh: $check not built; bilingual.md not verified" >&2
fi
echo "package versions used: $build/real-packages.json" >&2
