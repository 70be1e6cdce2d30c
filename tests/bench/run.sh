#!/bin/sh
# run.sh - build libessay in Release and run every benchmark, printing the
# figures.  Speed lives here, never in ctest.
#
#   tests/bench/run.sh [--with-1g] [--quick]
#
#   --with-1g   bench_build also builds a 1 GB corpus (FTS5 trigram takes long)
#   --quick     fewer repetitions and queries, 10 MB build only
#
# Environment: BUILD_DIR (default build-bench), JOBS (default 2).
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
jobs=${JOBS:-2}
with_1g=""
quick=""
for a in "$@"; do
    case "$a" in
        --with-1g) with_1g="--with-1g" ;;
        --quick) quick=1 ;;
        *) echo "usage: $0 [--with-1g] [--quick]" >&2; exit 2 ;;
    esac
done

sh "$root/tests/bench/fetch_text.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DESSAY_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j "$jobs" --target bench_analyze bench_corpus_check >/dev/null
bench="$build/tests/bench"
real="$root/tests/data/real"

echo "== machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)"
echo "== ICU $(pkg-config --modversion icu-uc), SQLite $(sqlite3 --version | cut -d' ' -f1)"
echo
echo "== bench_analyze"
if [ -n "$quick" ]; then reps=3; else reps=7; fi
"$bench/bench_analyze" --reps "$reps" "$real"
echo

if cmake --build "$build" -j "$jobs" --target bench_search bench_build >/dev/null 2>&1; then
    echo "== bench_search (tests/data/real/bilingual.md)"
    if [ -n "$quick" ]; then q=100; else q=300; fi
    "$bench/bench_search" --queries "$q" "$real/bilingual.md"
    echo
    echo "== bench_search (100 MB generated corpus)"
    mkdir -p "$build/bench-corpora"
    c100="$build/bench-corpora/corpus-100M.md"
    [ -f "$c100" ] || python3 "$root/tests/bench/gen_corpus.py" --quiet \
        --cache "$build/man-cache" gen --size 100M -o "$c100"
    [ -n "$quick" ] || "$bench/bench_search" --queries "$q" "$c100"
    echo
    echo "== bench_build"
    if [ -n "$quick" ]; then sizes=10M; breps=1; else sizes=10M,100M; breps=3; fi
    "$bench/bench_build" --sizes "$sizes" --reps "$breps" $with_1g \
        --dir "$build/bench-corpora" --cache "$build/man-cache"
else
    echo "== bench_search / bench_build: not built (index implementation not in this tree yet)"
fi
