#!/usr/bin/env python3
"""tests/hardening/test_cli_hostile.py - the essay command against hostile
input, closed pipes, full disks and address-space limits (issue 8).

Every hostile input must be answered with exit status 2, a clear message
on stderr ("essay: " and the path or query offset), within a second, and
never by a signal.  Run by hand:

  ESSAY_BIN=build/essay ESSAY_TEST_DATA=tests/data \\
      python3 tests/hardening/test_cli_hostile.py -v
"""
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _hostile as H  # noqa: E402

BIN = os.environ.get("ESSAY_BIN", "essay")


def run(*args, stdin=None, stdout=subprocess.PIPE, preexec_fn=None, timeout=H.HANG):
    """Run essay; return (status, stdout bytes, stderr text, seconds)."""
    env = dict(os.environ)
    env.pop("NO_COLOR", None)
    t0 = time.monotonic()
    p = subprocess.run([BIN, *args], input=stdin, stdout=stdout, stderr=subprocess.PIPE,
                       env=env, timeout=timeout, preexec_fn=preexec_fn)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace"), time.monotonic() - t0


class Timed(unittest.TestCase):
    """Records how long each hostile run took; prints the table at the end."""
    times = None

    @classmethod
    def setUpClass(cls):
        cls.times = []
        cls.tmp = tempfile.TemporaryDirectory(prefix="essay-hostile-")
        cls.dir = cls.tmp.name
        cls.inputs = H.make_inputs(cls.dir)

    @classmethod
    def tearDownClass(cls):
        if cls.times:
            worst = max(cls.times, key=lambda t: t[1])
            sys.stderr.write("\n%s: %d hostile runs, slowest %.3fs (%s), (the 1 s answer the issue asks for is reported, not asserted: %.1fs)\n"
                             % (cls.__name__, len(cls.times), worst[1], worst[0], H.BUDGET))
        cls.tmp.cleanup()

    def hostile(self, name, *args, stdin=None, expect_in=()):
        """essay ARGS must exit 2 within the budget with a clear message."""
        rc, out, err, secs = run(*args, stdin=stdin)
        self.times.append((name, secs))
        with self.subTest(case=name):
            self.assertGreaterEqual(rc, 0, "%s: killed by signal %d" % (name, -rc))
            self.assertEqual(rc, 2, "%s: status %d, stderr %r" % (name, rc, err[:300]))
            self.assertEqual(out, b"", name)
            self.assertTrue(err.startswith("essay: "), "%s: %r" % (name, err[:300]))
            self.assertTrue(err.endswith("\n"), name)
            self.assertLess(len(err), 4096, "%s: a message, not a flood" % name)
            for bad in ("Sanitizer", "runtime error", "Segmentation", "Aborted"):
                self.assertNotIn(bad, err, name)
            for want in expect_in:
                self.assertIn(want, err, "%s: %r lacks %r" % (name, err[:300], want))
        return err


class TestHostileCorpus(Timed):
    def test_directory(self):
        d = self.inputs["directory"]
        for cmd in (["search", "x", "--corpus", d], ["list", "--corpus", d],
                    ["index", d, "-o", os.path.join(self.dir, "o.idx")]):
            self.hostile("directory " + cmd[0], *cmd, expect_in=(d,))
        self.assertFalse(os.path.exists(os.path.join(self.dir, "o.idx")))

    def test_random_bytes(self):
        p = self.inputs["random.md"]
        err = self.hostile("random bytes", "search", "x", "--corpus", p,
                           expect_in=(p + ":1:", "invalid UTF-8"))
        self.hostile("random bytes index", "index", p, "-o",
                     os.path.join(self.dir, "r.idx"), expect_in=(p,))
        self.assertFalse(os.path.exists(os.path.join(self.dir, "r.idx")))
        del err
        p = self.inputs["random_utf8.md"]
        self.hostile("random utf-8", "list", "--corpus", p, expect_in=(p + ":1:1:",))

    def test_nul_byte(self):
        p = self.inputs["nul.md"]
        self.hostile("nul", "search", "x", "--corpus", p, expect_in=(p + ":3:5:", "NUL"))

    def test_eight_megabyte_line(self):
        p = self.inputs["long_line.md"]
        self.hostile("8 MB line", "search", "x", "--corpus", p,
                     expect_in=(p + ":3:", "paragraph longer than 4194304 bytes"))
        self.hostile("8 MB line index", "index", p, "-o", os.path.join(self.dir, "l.idx"),
                     expect_in=(p,))
        p = self.inputs["long_line_no_heading.md"]
        self.hostile("8 MB line, no heading", "list", "--corpus", p, expect_in=(p + ":1:1:",))

    def test_missing_file(self):
        p = self.inputs["missing"]
        self.hostile("missing corpus", "search", "x", "--corpus", p, expect_in=(p,))
        self.hostile("missing corpus index", "index", p, "-o", os.path.join(self.dir, "m.idx"),
                     expect_in=(p,))
        q = self.inputs["missing_idx"]
        self.hostile("missing index", "search", "x", "--index", q, expect_in=(q,))
        self.hostile("missing index stats", "stats", "--index", q, expect_in=(q,))

    def test_unreadable_file(self):
        if os.geteuid() == 0:
            self.skipTest("running as root: a chmod 000 file is still readable, "
                          "so the unreadable-file case cannot be staged")
        p = os.path.join(self.dir, "unreadable.md")
        shutil.copy(H.MIXED, p)
        os.chmod(p, 0)
        try:
            self.hostile("unreadable corpus", "search", "x", "--corpus", p,
                         expect_in=(p, "Permission denied"))
            idx = os.path.join(self.dir, "unreadable.idx")
            self.assertEqual(run("index", H.MIXED, "-o", idx)[0], 0)
            os.chmod(idx, 0)
            self.hostile("unreadable index", "search", "x", "--index", idx,
                         expect_in=(idx, "Permission denied"))
        finally:
            os.chmod(p, 0o600)


class TestHostileIndex(Timed):
    def test_random_and_empty_index(self):
        for name in ("index_random.idx", "index_empty.idx"):
            p = self.inputs[name]
            self.hostile(name, "search", "x", "--index", p, expect_in=(p,))
            self.hostile(name + " stats", "stats", "--index", p, expect_in=(p,))
            self.hostile(name + " list", "list", "--index", p, expect_in=(p,))

    def test_directory_as_index(self):
        d = self.inputs["directory"]
        self.hostile("directory index", "search", "x", "--index", d, expect_in=(d,))

    def test_truncated_index(self):
        idx = os.path.join(self.dir, "good.idx")
        self.assertEqual(run("index", H.MIXED, "-o", idx)[0], 0)
        with open(idx, "rb") as f:
            image = f.read()
        for name, data in H.truncations(image):
            p = os.path.join(self.dir, "trunc_%s.idx" % name)
            with open(p, "wb") as f:
                f.write(data)
            self.hostile("truncated " + name, "search", "数学", "--index", p, expect_in=(p,))


class TestHostileQuery(Timed):
    def test_hundred_kilobyte_query(self):
        self.hostile("100 KB query", "search", H.LONG_QUERY,
                     expect_in=("query", "limit of 4096 bytes"))
        self.hostile("100 KB query json", "search", "--json", H.LONG_QUERY,
                     expect_in=("limit of 4096 bytes",))

    def test_thousands_of_terms(self):
        self.hostile("3000 terms", "search", *H.MANY_TERMS.split(),
                     expect_in=("limit of 4096 bytes",))
        self.hostile("2000 short terms", "search", H.MANY_SHORT_TERMS,
                     expect_in=("ESSAY_MAX_QUERY_TERMS",))

    def test_unbalanced(self):
        for q in H.UNBALANCED:
            err = self.hostile("unbalanced %r" % q, "search", "--", q)
            self.assertRegex(err, r"query.*\d", q)  # names the byte offset

    def test_invalid_utf8_query_from_argv(self):
        # argv is bytes on Linux: hand essay a broken UTF-8 query
        rc, out, err, secs = run("search", os.fsdecode(b"abc\xff\xfe"))
        self.times.append(("invalid utf-8 query", secs))
        self.assertEqual(rc, 2, err)
        self.assertIn("UTF-8", err)


class TestPipesAndFullDisk(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="essay-disk-")
        cls.dir = cls.tmp.name
        cls.big = os.path.join(cls.dir, "bilingual.idx")
        rc, out, err, secs = run("index", H.BILINGUAL, "-o", cls.big, timeout=600)
        if rc != 0:
            raise AssertionError("indexing %s: %s" % (H.BILINGUAL, err))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_head_closes_the_pipe(self):
        for extra in ([], ["--json"], ["--no-pair", "--color", "always"]):
            with self.subTest(args=extra):
                essay = subprocess.Popen([BIN, "search", "the", "--limit", "0", "--index",
                                          self.big, *extra], stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE)
                head = subprocess.Popen(["head", "-n", "1"], stdin=essay.stdout,
                                        stdout=subprocess.PIPE)
                essay.stdout.close()
                first = head.communicate(timeout=H.HANG)[0]
                err = essay.stderr.read()
                essay.stderr.close()
                rc = essay.wait(timeout=H.HANG)
                self.assertEqual(rc, 0, err)
                self.assertEqual(err, b"")
                self.assertTrue(first)

    def test_dev_full(self):
        if not os.path.exists("/dev/full"):
            self.skipTest("no /dev/full")
        for args in (["search", "数学"], ["search", "the", "--json", "--index", self.big],
                     ["search", "the", "-n", "0", "--index", self.big]):
            with self.subTest(args=args), open("/dev/full", "wb") as full:
                rc, out, err, secs = run(*args, stdout=full)
                self.assertEqual(rc, 2, err)
                self.assertEqual(err, "essay: error writing to standard output: "
                                      "No space left on device\n")

    def test_full_disk_keeps_the_old_index(self):
        mnt = os.path.join(self.dir, "mnt")
        os.mkdir(mnt)
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1M", "tmpfs", mnt],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if p.returncode != 0:
            self.skipTest("cannot mount a 1 MB tmpfs here (%s): the full-disk save is "
                          "covered by test_store's injected I/O faults"
                          % p.stdout.decode(errors="replace").strip())
        try:
            idx = os.path.join(mnt, "essays.idx")
            rc, out, err, secs = run("index", H.MIXED, "-o", idx)
            self.assertEqual(rc, 0, err)
            with open(idx, "rb") as f:
                before = f.read()
            answer = run("search", "--json", "数学", "--index", idx)
            self.assertEqual(answer[0], 0)
            self.assertLess(len(before), 1 << 20)
            # the bilingual index is several MB: the save fills the disk
            rc, out, err, secs = run("index", H.BILINGUAL, "-o", idx, timeout=600)
            self.assertEqual(rc, 2, err)
            self.assertTrue(err.startswith("essay: "), err)
            self.assertIn("No space left on device", err)
            self.assertIn(mnt, err)
            self.assertEqual(os.listdir(mnt), ["essays.idx"])  # no temporary left
            with open(idx, "rb") as f:
                self.assertEqual(f.read(), before)               # byte-identical
            self.assertEqual(run("search", "--json", "数学", "--index", idx)[:3], answer[:3])
            # the disk is usable again: a small save still works
            rc, out, err, secs = run("index", H.MIXED, "-o", idx)
            self.assertEqual(rc, 0, err)
        finally:
            subprocess.run(["umount", mnt])


@unittest.skipIf(H.SANITIZED, "sanitizer build: the sanitizer runtime reserves terabytes of "
                              "address space, so essay cannot start under RLIMIT_AS")
class TestAddressSpace(unittest.TestCase):
    """essay under `ulimit -v` from 64 MB up: success or a clear out-of-memory
    error (status 2), never a signal."""
    CAPS_MB = (64, 96, 128, 256)

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="essay-as-")
        cls.dir = cls.tmp.name
        cls.big = os.path.join(cls.dir, "bilingual.idx")
        if run("index", H.BILINGUAL, "-o", cls.big, timeout=600)[0] != 0:
            raise AssertionError("cannot index " + H.BILINGUAL)
        cls.outcomes = []

    @classmethod
    def tearDownClass(cls):
        sys.stderr.write("\naddress-space caps: %s\n" % ", ".join(cls.outcomes))
        cls.tmp.cleanup()

    def capped(self, mb, *args):
        limit = mb << 20

        def cap():
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        rc, out, err, secs = run(*args, stdout=subprocess.DEVNULL, preexec_fn=cap,
                                 timeout=600)
        self.assertGreaterEqual(rc, 0, "%s under %d MB: killed by signal %d: %s"
                                % (args[0], mb, -rc, err[-500:]))
        lines = err.splitlines()
        if rc == 2:
            # corpus warnings may come first; the last line says what failed
            self.assertRegex(lines[-1] if lines else "", r"^essay: .*out of memory",
                             "%s under %d MB: %r" % (args, mb, err[-300:]))
            for line in lines[:-1]:
                self.assertRegex(line, r"^essay: .*: warning: ")
        else:
            self.assertIn(rc, (0, 1), "%s under %d MB: %r" % (args, mb, err[-300:]))
        self.outcomes.append("%s %dMB:%s" % (args[0] if args[0] != "search" else
                                              "search" + ("-i" if "--index" in args else
                                                          "-c" if "--corpus" in args else ""),
                                              mb, "ok" if rc != 2 else "oom"))
        return rc

    def test_search(self):
        for mb in self.CAPS_MB:
            with self.subTest(mb=mb):
                self.capped(mb, "search", "数学")
                self.capped(mb, "search", "the", "--limit", "0", "--json", "--index", self.big)
                self.capped(mb, "search", "learn OR 学习", "--corpus", H.BILINGUAL)
        # with a quarter of a gigabyte, everything fits
        self.assertEqual(self.capped(256, "search", "数学"), 0)

    def test_index(self):
        for mb in self.CAPS_MB:
            with self.subTest(mb=mb):
                out_dir = os.path.join(self.dir, "cap%d" % mb)
                os.mkdir(out_dir)
                out = os.path.join(out_dir, "x.idx")
                rc = self.capped(mb, "index", H.BILINGUAL, "-o", out)
                if rc == 0:
                    with open(out, "rb") as f, open(self.big, "rb") as g:
                        self.assertEqual(f.read(), g.read())
                else:
                    self.assertEqual(os.listdir(out_dir), [])  # nothing half-written


if __name__ == "__main__":
    unittest.main()
