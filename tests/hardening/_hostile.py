"""Hostile inputs shared by the hardening tests (not a test module).

Environment (set by tests/hardening/CMakeLists.txt):
  ESSAY_BIN         the essay executable
  ESSAY_TEST_DATA   tests/data
  ESSAY_SANITIZED   set in sanitizer builds: time budgets widen, address-space
                    caps are skipped (sanitizers reserve terabytes up front)
  ESSAY_HOSTILE_SECONDS  time budget of one hostile run (default 1, 5 sanitized)
"""
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("ESSAY_TEST_DATA", os.path.join(HERE, "..", "data"))
BILINGUAL = os.path.join(DATA, "real", "bilingual.md")
MIXED = os.path.join(DATA, "good", "mixed.md")
SANITIZED = bool(os.environ.get("ESSAY_SANITIZED"))
#: Each hostile input should be answered within this many seconds.  Tests
#: never assert on wall-clock time: the slowest measured run is printed at
#: the end of each test class against this figure; HANG is the only limit.
BUDGET = float(os.environ.get("ESSAY_HOSTILE_SECONDS") or (5.0 if SANITIZED else 1.0))
#: Hang guard: far above BUDGET, so a hang is reported as such.
HANG = 60


def random_bytes(n, seed=8):
    return random.Random(seed).randbytes(n)


def make_inputs(d):
    """Write the hostile files into directory d; return {name: path}."""
    p = {}

    def write(name, data):
        path = os.path.join(d, name)
        with open(path, "wb") as f:
            f.write(data)
        p[name] = path
        return path

    os.mkdir(os.path.join(d, "a_directory"))
    p["directory"] = os.path.join(d, "a_directory")
    write("random.md", random_bytes(64 << 10))
    # random bytes that are valid UTF-8 (no heading): "text before the first heading"
    write("random_utf8.md",
          random_bytes(64 << 10).replace(b"\0", b"").decode("latin-1").encode("utf-8"))
    # an 8 MB single line: one paragraph over ESSAY_MAX_PARAGRAPH_BYTES
    write("long_line.md", b"## 0001. One long line\n\n" + b"abcdefg " * (1 << 20) + b"\n")
    write("long_line_no_heading.md", b"x" * (8 << 20))
    write("nul.md", b"## 0001. T\n\nbody\x00body\n")
    write("index_random.idx", random_bytes(1 << 16, seed=9))
    write("index_empty.idx", b"")
    p["missing"] = os.path.join(d, "no-such-file.md")
    p["missing_idx"] = os.path.join(d, "no-such-index.idx")
    return p


def truncations(image):
    """(name, bytes) of a real index image cut short in several places."""
    n = len(image)
    return [("header_only", image[:40]), ("one_byte", image[:1]),
            ("half", image[:n // 2]), ("all_but_one", image[:n - 1])]


LONG_QUERY = "x" * (100 << 10)                       # 100 KB, one word
MANY_TERMS = " ".join("w%d" % i for i in range(3000))  # thousands of terms (> 4096 bytes)
MANY_SHORT_TERMS = " ".join(["a"] * 2000)            # thousands of terms within 4096 bytes
UNBALANCED = ['"unclosed phrase', 'learn "math', "(math", "((math) learn", "math)",
              "math ) learn", "(", ")", '"', '( "a b" ']
