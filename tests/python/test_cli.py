"""python -m essay: output and exit status, compared with the C command
(ESSAY_CLI, set by ctest when the CLI is built)."""

import json
import os
import subprocess
import sys
import unittest

from _support import BINDING_DIR, SOURCE_DIR, data, has_index, needs_index

CLI = os.environ.get("ESSAY_CLI")
DEFAULT_CORPUS = os.path.join(SOURCE_DIR, "libessay", "corpus", "essays.md")


def run_py(*args, stdin=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = BINDING_DIR + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("NO_COLOR", None)
    return subprocess.run([sys.executable, "-m", "essay"] + list(args), input=stdin,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                          timeout=300)


def run_c(*args, stdin=None):
    # A sanitizer build's CLI has its runtime linked in: the preload that
    # python needs (tests/python/CMakeLists.txt) would clash with it.
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    return subprocess.run([CLI] + list(args), input=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env, timeout=300)


class PythonCliTest(unittest.TestCase):

    def test_show_prints_pairs(self):
        r = run_py("show", "0301")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        self.assertTrue(out.startswith("[en 0] Should You Learn Math"))
        self.assertIn("[zh 0] 在 AI 找工作该不该学数学？", out)

    def test_show_json_lines(self):
        r = run_py("show", "0301", "--json", "--lang", "zh")
        rows = [json.loads(l) for l in r.stdout.decode().splitlines()]
        self.assertEqual(len(rows), 8)
        self.assertEqual(rows[2]["pair"], {"lang": "en", "para": 2})
        self.assertEqual({r["lang"] for r in rows}, {"zh"})

    def test_show_unknown_essay(self):
        r = run_py("show", "9999")
        self.assertEqual(r.returncode, 1)
        self.assertIn("9999", r.stderr.decode())

    def test_corpus_error_exit_2(self):
        r = run_py("show", "0001", "--corpus", data("malformed", "duplicate_id.md"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("duplicate_id.md:9:4:", r.stderr.decode())

    def test_tokenize(self):
        r = run_py("tokenize", "--json", "數學")
        toks = [json.loads(l) for l in r.stdout.decode().splitlines()]
        self.assertEqual(toks[0], {"kind": "han_word", "term": "数学", "start": 0,
                                   "end": 6, "position": 0, "colocated": False,
                                   "text": "數學"})
        self.assertEqual(run_py("tokenize", "🙂").returncode, 1)

    def test_usage_error_exit_2(self):
        self.assertEqual(run_py("frobnicate").returncode, 2)


@needs_index
class PythonCliSearchTest(unittest.TestCase):

    def test_search_json(self):
        r = run_py("search", "数学", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout.decode())
        self.assertEqual(set(doc), {"query", "total", "hits"})
        self.assertEqual(doc["query"], "数学")
        self.assertGreaterEqual(doc["total"], len(doc["hits"]))
        self.assertTrue(doc["hits"])
        for h in doc["hits"]:
            self.assertEqual(set(h), {"essay", "lang", "para", "score", "text",
                                      "highlights", "snippet", "pair"})
            raw = h["text"].encode()
            for s, e in h["highlights"]:            # byte offsets, like the C CLI
                self.assertEqual(raw[s:e].decode(), "数学")
            if h["lang"] == "zh":
                self.assertEqual(h["pair"]["lang"], "en")
                self.assertEqual(h["pair"]["para"], h["para"])
                self.assertEqual(set(h["pair"]), {"lang", "para", "text", "highlights"})

    def test_search_text(self):
        r = run_py("search", "数学", "--limit", "2")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        self.assertTrue(out.startswith("0301 zh 2  score "), out)
        self.assertNotIn("\033[", out)    # no colour off a terminal
        r = run_py("search", "--color", "always", "数学", "--limit", "1")
        self.assertIn("\033[1;31m数学\033[0m", r.stdout.decode())

    def test_search_lang_and_none(self):
        r = run_py("search", "数学", "--lang", "en", "--json")
        self.assertEqual(json.loads(r.stdout.decode())["hits"], [])
        self.assertEqual(r.returncode, 1)
        r = run_py("search", "zzzyzzy")
        self.assertEqual(r.returncode, 1)

    def test_search_syntax_error(self):
        r = run_py("search", '"unclosed')
        self.assertEqual(r.returncode, 2)
        self.assertTrue(r.stderr.decode().startswith("essay: "))


@unittest.skipUnless(CLI and os.access(CLI, os.X_OK), "the C essay command is not built "
                     "(ESSAY_CLI unset)")
class SameAsCTest(unittest.TestCase):
    """The Python command prints what the C command prints."""

    CASES = [
        ["list"], ["list", "--json"],
        ["list", "--corpus", data("good", "mixed.md"), DEFAULT_CORPUS],
        ["show", "0301"], ["show", "0301", "--json"], ["show", "0301", "--lang", "zh"],
        ["show", "0103", "--corpus", data("good", "mixed.md")],
        ["show", "0103", "--json", "--corpus", data("good", "mixed.md")],
        ["show", "9999"],
        ["tokenize", "DeepLearning.AI 在 AI 找工作该不该学数学？ naïve ＡＩ 數學"],
        ["tokenize", "--json", "--query", "index.html don't 數學"],
        ["search", "--color", "never", "数学", "OR", "math", "-n", "0"],
        ["search", "--color", "always", "learn*", "OR", "学习", "--corpus",
         data("good", "mixed.md"), DEFAULT_CORPUS],
        ["search", "math", "--lang", "en", "--limit", "3", "--offset", "1", "--no-pair"],
        ["search", "--json", "数学 OR math", "-n", "0"],
        ["search", "(unclosed"], ["search", "zzzyzzy"],
        ["stats"], ["stats", "--json"],
    ]

    def test_same_output(self):
        for args in self.CASES:
            with self.subTest(args=args):
                p, c = run_py(*args), run_c(*args)
                self.assertEqual(p.returncode, c.returncode)
                self.assertEqual(p.stdout.decode(), c.stdout.decode())
                self.assertEqual(p.stderr.decode(), c.stderr.decode())

    def test_same_tokens_from_stdin(self):
        text = "Is math a foundational skill for AI? 数学是人工智能的基础技能吗？\n".encode()
        p, c = run_py("tokenize", stdin=text), run_c("tokenize", stdin=text)
        self.assertEqual(p.stdout, c.stdout)

    @unittest.skipUnless(has_index(), "no index implementation yet")
    def test_same_index_file(self):
        import tempfile
        from _support import tmpdir_root
        with tempfile.TemporaryDirectory(dir=tmpdir_root()) as d:
            a, b = os.path.join(d, "py.idx"), os.path.join(d, "c.idx")
            for run, path in ((run_py, a), (run_c, b)):
                r = run("index", data("good", "mixed.md"), "-o", path, "--threads", "2")
                self.assertEqual(r.returncode, 0, r.stderr)
            with open(a, "rb") as fa, open(b, "rb") as fb:
                self.assertEqual(fa.read(), fb.read())
            for args in (["search", "数学", "--index", a], ["stats", "--index", a],
                         ["show", "0102", "--index", a]):
                p, c = run_py(*args), run_c(*args)
                self.assertEqual((p.returncode, p.stdout), (c.returncode, c.stdout))

    @unittest.skipUnless(has_index(), "no index implementation yet")
    def test_same_search_json(self):
        for args in (["数学"], ["math", "--lang", "en", "--limit", "3"], ["AI 数学"]):
            with self.subTest(args=args):
                p, c = run_py("search", "--json", *args), run_c("search", "--json", *args)
                if c.returncode == 2 and b"search" in c.stderr and b"unknown" in c.stderr:
                    self.skipTest("the C command has no search yet")
                self.assertEqual(p.returncode, c.returncode)
                pj, cj = json.loads(p.stdout), json.loads(c.stdout)
                self.assertEqual(set(pj), set(cj))
                self.assertEqual(pj["total"], cj["total"])
                self.assertEqual([(h["essay"], h["lang"], h["para"]) for h in pj["hits"]],
                                 [(h["essay"], h["lang"], h["para"]) for h in cj["hits"]])
                for ph, ch in zip(pj["hits"], cj["hits"]):
                    self.assertEqual(set(ph), set(ch))
                    self.assertEqual(ph["highlights"], ch["highlights"])
                    self.assertEqual(ph["snippet"], ch["snippet"])
                    self.assertAlmostEqual(ph["score"], ch["score"], places=9)


if __name__ == "__main__":
    unittest.main()
