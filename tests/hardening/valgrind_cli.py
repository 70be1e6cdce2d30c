#!/usr/bin/env python3
"""tests/hardening/valgrind_cli.py - run tests/cli/test_cli.py with the essay
binary wrapped in valgrind memcheck (see tests/hardening/valgrind-essay and
.ci/valgrind, which sets the environment up).

Tests that are inherently slow or meaningless under valgrind are skipped
with a visible reason; every other test of test_cli.py runs unchanged.
Arguments are passed to unittest (e.g. -v, or a class name).
"""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))

import test_cli  # noqa: E402

SKIPS = {
    ("TestOutput", "test_out_of_memory_is_a_clear_error"):
        "valgrind: an RLIMIT_AS cap applies to valgrind itself, not to essay "
        "(covered natively by hardening/cli TestAddressSpace)",
    ("TestOutput", "test_head_closes_pipe_midway"):
        "valgrind: tokenizes 40 copies of the corpus (minutes under memcheck); "
        "the closed pipe is covered by test_closed_pipe_is_quiet and "
        "test_closed_pipe_and_full_disk",
    ("TestSearch", "test_color_auto_on_a_terminal"):
        "valgrind: pty test with a 60 s timeout per run; colour logic is not memory-relevant "
        "beyond test_color, which still runs",
}

for (cls_name, test_name), reason in SKIPS.items():
    cls = getattr(test_cli, cls_name)
    setattr(cls, test_name, unittest.skip(reason)(getattr(cls, test_name)))

if __name__ == "__main__":
    unittest.main(module=test_cli, argv=[sys.argv[0], *sys.argv[1:]])
