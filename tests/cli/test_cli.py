#!/usr/bin/env python3
"""tests/cli/test_cli.py - drive the built `essay` command.

Environment (set by tests/cli/CMakeLists.txt):
  ESSAY_BIN        path of the essay executable
  ESSAY_TEST_DATA  tests/data
  ESSAY_CORPUS_MD  libessay/corpus/essays.md (the embedded corpus, as text)

Every test runs the real binary and checks exit status, stdout and stderr.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

BIN = os.environ.get("ESSAY_BIN", "essay")
DATA = os.environ.get("ESSAY_TEST_DATA", os.path.join(os.path.dirname(__file__), "..", "data"))
CORPUS_MD = os.environ.get(
    "ESSAY_CORPUS_MD",
    os.path.join(os.path.dirname(__file__), "..", "..", "libessay", "corpus", "essays.md"))
HEADER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "include", "essay.h")
MIXED = os.path.join(DATA, "good", "mixed.md")
CRLF = os.path.join(DATA, "good", "crlf_bom.md")

# The paragraph-key fields every JSON face reports (DESIGN §1).
KEY_FIELDS = ("essay", "lang", "para")


def run(*args, stdin=None, env=None, stdout=subprocess.PIPE, timeout=120):
    """Run essay with args; return (status, stdout text, stderr text)."""
    full_env = dict(os.environ)
    full_env.pop("NO_COLOR", None)
    if env:
        full_env.update(env)
    p = subprocess.run([BIN, *args], input=stdin, stdout=stdout, stderr=subprocess.PIPE,
                       env=full_env, timeout=timeout)
    out = p.stdout.decode("utf-8") if p.stdout is not None else None
    return p.returncode, out, p.stderr.decode("utf-8")


def jsonl(text):
    return [json.loads(line) for line in text.splitlines()]


def header_version():
    with open(HEADER, encoding="utf-8") as f:
        return re.search(r'#define ESSAY_VERSION_STRING "([^"]+)"', f.read()).group(1)


class TestGlobal(unittest.TestCase):
    def test_help_lists_every_command(self):
        rc, out, err = run("--help")
        self.assertEqual(rc, 0)
        self.assertEqual(err, "")
        self.assertTrue(out.startswith("usage: essay <command>"))
        for cmd in ("search", "show", "list", "tokenize", "index", "stats"):
            self.assertRegex(out, r"(?m)^  %s\s+\S" % cmd)
        self.assertEqual(run("-h")[1], out)

    def test_subcommand_help(self):
        for cmd in ("search", "show", "list", "tokenize", "index", "stats"):
            rc, out, err = run(cmd, "--help")
            self.assertEqual((rc, err), (0, ""), cmd)
            self.assertTrue(out.startswith("usage: essay %s" % cmd), out)
            self.assertIn("--help", out)
            # `essay help CMD` and `essay CMD -h` say the same
            self.assertEqual(run("help", cmd)[1], out)
            self.assertEqual(run(cmd, "-h")[1], out)

    def test_version(self):
        rc, out, err = run("--version")
        self.assertEqual((rc, err), (0, ""))
        v = header_version()
        self.assertEqual(out, "essay %s\nlibessay %s (header %s)\n" % (v, v, v))
        self.assertEqual(run("-V")[1], out)

    def test_no_command_is_usage_error(self):
        rc, out, err = run()
        self.assertEqual((rc, out), (2, ""))
        self.assertIn("usage: essay <command>", err)

    def test_unknown_command(self):
        rc, out, err = run("frobnicate")
        self.assertEqual((rc, out), (2, ""))
        self.assertIn("essay: 'frobnicate' is not an essay command", err)
        self.assertIn("usage: essay", err)

    def test_unknown_global_option(self):
        rc, out, err = run("--frobnicate")
        self.assertEqual((rc, out), (2, ""))
        self.assertIn("unknown option '--frobnicate'", err)


class TestList(unittest.TestCase):
    def test_embedded(self):
        rc, out, err = run("list")
        self.assertEqual((rc, err), (0, ""))
        lines = out.splitlines()
        self.assertEqual(len(lines), 1)
        self.assertRegex(lines[0], r"^0301\s+en 8\s+zh 8\s+aligned\s+"
                         r"Should You Learn Math to Get a Job in AI\?$")

    def test_json(self):
        rc, out, err = run("list", "--json")
        self.assertEqual((rc, err), (0, ""))
        (obj,) = jsonl(out)
        self.assertEqual(obj["essay"], "0301")
        self.assertEqual((obj["en"], obj["zh"], obj["aligned"]), (8, 8, True))
        self.assertEqual(obj["title_en"], "Should You Learn Math to Get a Job in AI?")
        self.assertEqual(obj["title_zh"], "在 AI 找工作该不该学数学？")
        self.assertEqual(obj["line"], 1)

    def test_several_corpus_files_and_alignment_labels(self):
        rc, out, err = run("list", "--corpus", CRLF, MIXED)
        self.assertEqual(rc, 0)
        ids = [line.split()[0] for line in out.splitlines()]
        self.assertEqual(ids, ["0007", "0100", "0101", "0102", "0103", "0104"])
        labels = {line.split()[0]: line.split()[5] for line in out.splitlines()}
        self.assertEqual(labels, {"0007": "aligned", "0100": "en-only", "0101": "zh-only",
                                  "0102": "aligned", "0103": "unaligned", "0104": "en-only"})
        # the Chinese-only essay is listed under its Chinese title
        self.assertRegex(out, r"(?m)^0101\s+en 0\s+zh 3\s+zh-only\s+中文标题$")
        # load warnings go to stderr, located, once each, with the prefix
        self.assertRegex(err, r"(?m)^essay: .*mixed\.md:21:1: warning: essay 0103 has 4 "
                         r"English and 2 Chinese")
        self.assertNotIn("warning: warning", err)

    def test_json_fields_per_essay(self):
        rc, out, err = run("list", "--json", "--corpus", MIXED)
        self.assertEqual(rc, 0)
        objs = {o["essay"]: o for o in jsonl(out)}
        self.assertEqual((objs["0100"]["en"], objs["0100"]["zh"]), (3, 0))
        self.assertIsNone(objs["0100"]["title_zh"])
        self.assertIsNone(objs["0101"]["title_en"])
        self.assertFalse(objs["0103"]["aligned"])
        self.assertTrue(objs["0103"]["source"].endswith("mixed.md"))

    def test_corpus_equals_form_takes_one_file(self):
        rc, out, err = run("list", "--corpus=" + CRLF)
        self.assertEqual(rc, 0)
        self.assertEqual([l.split()[0] for l in out.splitlines()], ["0007"])
        # with '=', a following word is an operand, and list takes none
        rc, out, err = run("list", "--corpus=" + CRLF, MIXED)
        self.assertEqual(rc, 2)
        self.assertIn("unexpected argument", err)


class TestShow(unittest.TestCase):
    def test_both_languages_pairs_together(self):
        rc, out, err = run("show", "0301")
        self.assertEqual((rc, err), (0, ""))
        blocks = out.rstrip("\n").split("\n\n")
        self.assertEqual(len(blocks), 8)
        for k, block in enumerate(blocks):
            en, zh = block.split("\n")
            self.assertTrue(en.startswith("[en %d] " % k), en)
            self.assertTrue(zh.startswith("[zh %d] " % k), zh)
        self.assertEqual(blocks[0], "[en 0] Should You Learn Math to Get a Job in AI?\n"
                                    "[zh 0] 在 AI 找工作该不该学数学？")

    def test_one_language(self):
        rc, out, err = run("show", "0301", "--lang", "zh")
        self.assertEqual(rc, 0)
        paras = out.rstrip("\n").split("\n\n")
        self.assertEqual(len(paras), 8)
        self.assertTrue(all(p.startswith("[zh ") for p in paras))
        self.assertEqual(paras[1], "[zh 1] 做一名机器学习工程师需要懂多少数学？")
        self.assertEqual(run("show", "--lang=en", "0301")[1].count("[en "), 8)

    def test_json_keys_and_pairs(self):
        rc, out, err = run("show", "0301", "--json")
        self.assertEqual((rc, err), (0, ""))
        objs = jsonl(out)
        self.assertEqual(len(objs), 16)
        for o in objs:
            self.assertEqual(set(o), {"essay", "lang", "para", "text", "pair"})
            self.assertEqual(o["essay"], "0301")
            other = "zh" if o["lang"] == "en" else "en"
            self.assertEqual(o["pair"], {"lang": other, "para": o["para"]})
        # pairs come together: en 0, zh 0, en 1, zh 1, ...
        self.assertEqual([(o["lang"], o["para"]) for o in objs],
                         [(l, k) for k in range(8) for l in ("en", "zh")])
        self.assertEqual(objs[2]["text"],
                         "How much math do you need to know to be a machine learning engineer?")
        self.assertEqual(objs[3]["text"], "做一名机器学习工程师需要懂多少数学？")

    def test_json_text_is_the_corpus_text(self):
        with open(CORPUS_MD, encoding="utf-8") as f:
            blocks = [b.strip("\n") for b in f.read().split("\n\n") if b.strip()]
        blocks[0] = blocks[0].split(". ", 1)[1]  # heading -> title
        rc, out, err = run("show", "0301", "--json", "--lang", "en")
        en = [o["text"] for o in jsonl(out)]
        rc, out, err = run("show", "0301", "--json", "--lang", "zh")
        zh = [o["text"] for o in jsonl(out)]
        self.assertEqual(en + zh, blocks)

    def test_unaligned_prints_all_english_then_chinese(self):
        rc, out, err = run("show", "0103", "--corpus", MIXED, "--json")
        self.assertEqual(rc, 0)
        objs = jsonl(out)
        self.assertEqual([(o["lang"], o["para"]) for o in objs],
                         [("en", 0), ("en", 1), ("en", 2), ("en", 3), ("zh", 0), ("zh", 1)])
        self.assertTrue(all(o["pair"] is None for o in objs))
        rc, out, err = run("show", "0103", "--corpus", MIXED)
        self.assertEqual(out.split("\n\n")[4], "[zh 0] 不匹配的标题")

    def test_unknown_essay(self):
        rc, out, err = run("show", "9999")
        self.assertEqual((rc, out), (1, ""))
        self.assertEqual(err, "essay: no essay with id '9999'\n")
        # ids are exact digits: leading zeros matter
        self.assertEqual(run("show", "301")[0], 1)

    def test_missing_id_and_bad_lang(self):
        rc, out, err = run("show")
        self.assertEqual(rc, 2)
        self.assertIn("usage: essay show <ID>", err)
        rc, out, err = run("show", "0301", "--lang", "fr")
        self.assertEqual(rc, 2)
        self.assertIn("'fr' is not en, zh or both", err)
        rc, out, err = run("show", "0301", "--lang")
        self.assertEqual(rc, 2)
        self.assertIn("option '--lang' needs a value", err)
        rc, out, err = run("show", "0301", "0302")
        self.assertEqual(rc, 2)
        self.assertIn("unexpected argument '0302'", err)

    def test_json_escaping(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "q.md")
            with open(path, "wb") as f:
                f.write(b'## 0001. Quote "x" and back\\slash\n\n'
                        b'Tab\there, ctl \x01 and \x1b esc, \xe6\x95\xb0\xe5\xad\xa6.\n'
                        b'Second line.\n')
            p = subprocess.run([BIN, "show", "0001", "--json", "--corpus", path],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            self.assertEqual(p.returncode, 0, p.stderr)
            raw = p.stdout
            self.assertIn(b'"Quote \\"x\\" and back\\\\slash"', raw)
            self.assertIn(b"Tab\\there, ctl \\u0001 and \\u001b esc", raw)
            self.assertIn("数学".encode(), raw)  # UTF-8 kept as is, not \u-escaped
            self.assertIn(b"\\nSecond line.", raw)
            objs = jsonl(raw.decode())
            self.assertEqual(objs[1]["text"],
                             "Tab\there, ctl \x01 and \x1b esc, 数学.\nSecond line.")


class TestTokenize(unittest.TestCase):
    def tokens(self, *args):
        rc, out, err = run("tokenize", "--json", *args)
        self.assertEqual((rc, err), (0, ""))
        return jsonl(out)

    def test_english_stem_and_exact(self):
        toks = self.tokens("Learning")
        self.assertEqual(toks, [
            {"kind": "word", "term": "learn", "start": 0, "end": 8, "position": 0,
             "colocated": False, "text": "Learning"},
            {"kind": "exact", "term": "learning", "start": 0, "end": 8, "position": 0,
             "colocated": True, "text": "Learning"}])

    def test_traditional_folds_to_simplified(self):
        toks = self.tokens("數學")
        kinds = [(t["kind"], t["term"], t["start"], t["end"], t["position"], t["colocated"])
                 for t in toks]
        self.assertEqual(kinds, [
            ("han_word", "数学", 0, 6, 0, False),
            ("han_unigram", "数", 0, 3, 0, True),
            ("han_bigram", "数学", 0, 6, 0, True),
            ("han_unigram", "学", 3, 6, 1, False)])
        self.assertEqual([t["text"] for t in toks], ["數學", "數", "數學", "學"])

    def test_fullwidth_folds(self):
        toks = self.tokens("ＡＩ")
        self.assertEqual([(t["kind"], t["term"], t["start"], t["end"]) for t in toks],
                         [("word", "ai", 0, 6), ("exact", "ai", 0, 6)])
        self.assertEqual(toks[0]["text"], "ＡＩ")

    def test_mixed_offsets_slice_the_joined_text(self):
        args = ["AI", "数学", "at", "DeepLearning.AI"]
        text = " ".join(args)
        toks = self.tokens(*args)
        raw = text.encode()
        for t in toks:
            self.assertEqual(raw[t["start"]:t["end"]].decode(), t["text"])
        terms = {(t["kind"], t["term"]) for t in toks}
        self.assertIn(("han_word", "数学"), terms)
        self.assertIn(("compound", "deeplearning.ai"), terms)
        self.assertIn(("word", "deeplearn"), terms)
        # positions never go backwards, colocated tokens share the position
        prev = -1
        for t in toks:
            if t["colocated"]:
                self.assertEqual(t["position"], prev)
            else:
                self.assertGreater(t["position"], prev)
            prev = t["position"]

    def test_human_lines(self):
        rc, out, err = run("tokenize", "Learning 數學")
        self.assertEqual(rc, 0)
        lines = [l.split() for l in out.splitlines()]
        self.assertEqual(lines[0], ["word", "0-8", "0", "learn", "Learning"])
        self.assertEqual(lines[1], ["exact", "0-8", "0=", "learning", "Learning"])
        self.assertEqual(lines[2], ["han_word", "9-15", "1", "数学", "數學"])
        self.assertEqual(len(lines), 6)

    def test_query_mode_and_stdin(self):
        toks = self.tokens("--query", "optimization")
        self.assertEqual(toks[0]["term"], "optim")
        rc, out, err = run("tokenize", "--json", stdin="數學\n".encode())
        self.assertEqual(rc, 0)
        self.assertEqual(jsonl(out)[0]["term"], "数学")

    def test_dashdash_makes_options_text(self):
        toks = self.tokens("--", "--json")
        self.assertEqual(toks[0]["term"], "json")

    def test_no_tokens_is_status_1(self):
        rc, out, err = run("tokenize", "😀 !!")
        self.assertEqual((rc, out, err), (1, "", ""))

    def test_invalid_utf8(self):
        rc, out, err = run("tokenize", stdin=b"ab\xffcd")
        self.assertEqual((rc, out), (2, ""))
        self.assertRegex(err, r"^essay: .*byte 2")

    def test_unknown_option(self):
        rc, out, err = run("tokenize", "--bogus", "x")
        self.assertEqual((rc, out), (2, ""))
        self.assertIn("essay: unknown option '--bogus'", err)
        self.assertIn("usage: essay tokenize", err)


class TestErrors(unittest.TestCase):
    def test_unknown_option_usage_on_stderr(self):
        for cmd in ("list", "show"):
            rc, out, err = run(cmd, "--frobnicate")
            self.assertEqual((rc, out), (2, ""), cmd)
            self.assertTrue(err.startswith("essay: unknown option '--frobnicate'\n"), err)
            self.assertIn("usage: essay %s" % cmd, err)
            self.assertIn("essay %s --help" % cmd, err)

    def test_flag_with_value(self):
        rc, out, err = run("list", "--json=yes")
        self.assertEqual(rc, 2)
        self.assertIn("option '--json' takes no value", err)

    def test_missing_file_names_the_path(self):
        path = os.path.join(DATA, "no-such-file.md")
        for cmd in (["list"], ["show", "0301"]):
            rc, out, err = run(*cmd, "--corpus", path)
            self.assertEqual((rc, out), (2, ""))
            self.assertTrue(err.startswith("essay: "), err)
            self.assertIn(path, err)

    def test_corpus_needs_a_file(self):
        rc, out, err = run("list", "--corpus")
        self.assertEqual(rc, 2)
        self.assertIn("'--corpus' needs a value", err)

    def test_malformed_corpora_report_file_line_col(self):
        mdir = os.path.join(DATA, "malformed")
        expected = []
        with open(os.path.join(mdir, "EXPECTED"), encoding="utf-8") as f:
            for line in f:
                if line.strip() and not line.startswith("#"):
                    name, code, loc = line.split()
                    expected.append((name, loc))
        self.assertGreaterEqual(len(expected), 10)
        for name, loc in expected:
            with self.subTest(name=name):
                path = os.path.join(mdir, name)
                rc, out, err = run("list", "--corpus", path)
                self.assertEqual((rc, out), (2, ""))
                self.assertTrue(err.startswith("essay: %s:%s: " % (path, loc)), err)
                self.assertEqual(err.count("\n"), 1, err)


class TestOutput(unittest.TestCase):
    def test_closed_pipe_is_quiet(self):
        # The reader is gone before the first write: every write gets EPIPE.
        r, w = os.pipe()
        os.close(r)
        try:
            p = subprocess.run([BIN, "show", "0301"], stdout=w, stderr=subprocess.PIPE)
        finally:
            os.close(w)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(p.stderr, b"")

    def test_head_closes_pipe_midway(self):
        # Far more than a pipe buffer of output, read by `head -n 1`.
        with open(CORPUS_MD, "rb") as f:
            text = f.read() * 40
        essay = subprocess.Popen([BIN, "tokenize"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        head = subprocess.Popen(["head", "-n", "1"], stdin=essay.stdout,
                                stdout=subprocess.PIPE)
        essay.stdout.close()
        essay.stdin.write(text)
        essay.stdin.close()
        first = head.communicate()[0]
        err = essay.stderr.read()
        essay.stderr.close()
        self.assertEqual(essay.wait(), 0)
        self.assertEqual(err, b"")
        self.assertEqual(first.split(), [b"word", b"3-7", b"0", b"0301", b"0301"])

    def test_write_error_is_status_2(self):
        if not os.path.exists("/dev/full"):
            self.skipTest("no /dev/full")
        for args in (["list"], ["show", "0301", "--json"], ["tokenize", "數學"], ["--help"]):
            with open("/dev/full", "wb") as full:
                rc, out, err = run(*args, stdout=full)
            self.assertEqual(rc, 2, args)
            self.assertEqual(err, "essay: error writing to standard output: "
                                  "No space left on device\n")

    def test_out_of_memory_is_a_clear_error(self):
        import resource
        limit = 200 << 20  # address space: far above what essay needs to start
        def cap():
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        if subprocess.run([BIN, "list"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          preexec_fn=cap).returncode != 0:
            self.skipTest("essay does not start within %d MiB of address space "
                          "(a sanitizer build?)" % (limit >> 20))
        with tempfile.TemporaryDirectory() as d:
            big = os.path.join(d, "big.md")  # sparse: costs no disk
            with open(big, "wb") as f:
                f.truncate(limit + (64 << 20))
            with open(big, "rb") as f:  # read through stdin by essay itself
                p = subprocess.run([BIN, "tokenize"], stdin=f, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, preexec_fn=cap)
            self.assertEqual((p.returncode, p.stdout), (2, b""))
            self.assertEqual(p.stderr, b"essay: out of memory\n")
            p = subprocess.run([BIN, "list", "--corpus", big], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, preexec_fn=cap)
            self.assertEqual((p.returncode, p.stdout), (2, b""))
            self.assertRegex(p.stderr, rb"^essay: .*out of memory")

    def test_no_color_codes_in_pipes(self):
        rc, out, err = run("show", "0301")
        self.assertNotIn("\033[", out)



def search(*args, expect=0):
    """essay search --json ARGS; check the status and return the object."""
    rc, out, err = run("search", "--json", *args)
    if rc != expect:
        raise AssertionError("essay search %r: status %d, stderr %r" % (args, rc, err))
    return json.loads(out)


def check_hit(tc, hit):
    """Invariants of every hit: keys, spans slicing the text, snippet."""
    tc.assertEqual(set(hit), {"essay", "lang", "para", "score", "text", "highlights",
                              "snippet", "pair"})
    raw = hit["text"].encode()
    tc.assertIn(hit["snippet"].encode(), raw)
    prev_end = -1
    for start, end in hit["highlights"]:
        tc.assertLess(prev_end, start)        # sorted, non-overlapping, merged
        tc.assertLess(start, end)
        tc.assertLessEqual(end, len(raw))
        raw[start:end].decode()               # on character boundaries
        prev_end = end
    if hit["pair"] is not None:
        pair = hit["pair"]
        tc.assertEqual(set(pair), {"lang", "para", "text", "highlights"})
        tc.assertNotEqual(pair["lang"], hit["lang"])
        praw = pair["text"].encode()
        for start, end in pair["highlights"]:
            tc.assertLessEqual(end, len(praw))
            praw[start:end].decode()


def slices(hit):
    raw = hit["text"].encode()
    return [raw[s:e].decode() for s, e in hit["highlights"]]


class TestSearch(unittest.TestCase):
    # Expectations read off libessay/corpus/essays.md (essay 0301, 8 + 8
    # paragraphs): 数学 is in zh 0 1 2 4 6; math in en 0 1 2 4 6; a form of
    # "learn" in all 8 English paragraphs; 学习 in zh 1 3 4 5 6 7.

    def test_chinese_finds_paragraphs_with_aligned_english(self):
        res = search("数学")
        self.assertEqual(res["query"], "数学")
        self.assertEqual(res["total"], 5)
        keys = sorted((h["essay"], h["lang"], h["para"]) for h in res["hits"])
        self.assertEqual(keys, [("0301", "zh", k) for k in (0, 1, 2, 4, 6)])
        for hit in res["hits"]:
            check_hit(self, hit)
            self.assertTrue(slices(hit))
            self.assertTrue(all(s == "数学" for s in slices(hit)), slices(hit))
            self.assertEqual(hit["pair"]["lang"], "en")
            self.assertEqual(hit["pair"]["para"], hit["para"])
        scores = [h["score"] for h in res["hits"]]
        self.assertEqual(scores, sorted(scores, reverse=True))
        # the English pair of zh 1 is en 1 of the corpus
        zh1 = [h for h in res["hits"] if h["para"] == 1][0]
        self.assertEqual(zh1["pair"]["text"],
                         "How much math do you need to know to be a machine learning engineer?")

    def test_traditional_query_finds_simplified_text(self):
        self.assertEqual(search("數學")["total"], 5)

    def test_english_stems_and_exact(self):
        res = search("math")
        self.assertEqual(sorted(h["para"] for h in res["hits"]), [0, 1, 2, 4, 6])
        for hit in res["hits"]:
            check_hit(self, hit)
            self.assertEqual(hit["lang"], "en")
            self.assertTrue(all(s.lower() == "math" for s in slices(hit)), slices(hit))
        res = search("learn", "--limit", "0")
        self.assertEqual(sorted(h["para"] for h in res["hits"]), list(range(8)))
        res = search('"learning"', "--limit", "0")
        self.assertEqual(sorted(h["para"] for h in res["hits"]), [1, 3, 4, 5, 6, 7])
        res = search('"machine learning"')
        self.assertEqual(sorted(h["para"] for h in res["hits"]), [1, 3, 4, 5])
        for hit in res["hits"]:  # both words of the phrase highlighted
            words = [s.lower() for s in slices(hit)]
            self.assertIn("machine", words)
            self.assertEqual(words[words.index("machine") + 1], "learning")

    def test_limit_offset_and_total(self):
        q = ("learn", "OR", "学习")
        res = search(*q)
        self.assertEqual((res["total"], len(res["hits"])), (14, 10))  # default limit 10
        every = search(*q, "--limit", "0")["hits"]
        self.assertEqual(len(every), 14)
        self.assertEqual(every[:10], res["hits"])
        self.assertEqual(len(search(*q, "-n", "3")["hits"]), 3)
        self.assertEqual(len(search(*q, "-n3")["hits"]), 3)
        self.assertEqual(search(*q, "--offset", "10", "--limit", "0")["hits"], every[10:])
        self.assertEqual(search(*q, "--offset", "4", "-n", "2")["hits"], every[4:6])

    def test_lang(self):
        q = ("learn", "OR", "学习", "--limit", "0")
        en = search(*q, "--lang", "en")["hits"]
        zh = search(*q, "--lang", "zh")["hits"]
        self.assertEqual((len(en), len(zh)), (8, 6))
        self.assertTrue(all(h["lang"] == "en" for h in en))
        self.assertTrue(all(h["lang"] == "zh" for h in zh))
        rc, out, err = run("search", "x", "--lang", "both")
        self.assertEqual(rc, 2)
        self.assertIn("'both' is not en or zh", err)

    def test_no_pair(self):
        for hit in search("数学", "--no-pair")["hits"]:
            self.assertIsNone(hit["pair"])

    def test_english_only_essay_has_no_pair(self):
        res = search("数学", "--corpus", MIXED)
        # 0104 is English only, with 数学 in its title and its first paragraph
        self.assertEqual([(h["essay"], h["lang"], h["para"]) for h in res["hits"]],
                         [("0104", "en", 0), ("0104", "en", 1)])
        for hit in res["hits"]:
            check_hit(self, hit)
            self.assertEqual(slices(hit), ["数学"])
            self.assertIsNone(hit["pair"])

    def test_no_hits_is_status_1(self):
        rc, out, err = run("search", "blockchain")
        self.assertEqual((rc, out, err), (1, "", ""))
        res = search("blockchain", expect=1)
        self.assertEqual(res, {"query": "blockchain", "total": 0, "hits": []})

    def test_query_syntax_error_names_the_offset(self):
        rc, out, err = run("search", "math", '"unbalanced')
        self.assertEqual((rc, out), (2, ""))
        self.assertTrue(err.startswith("essay: "), err)
        self.assertRegex(err, r"\b5\b")  # the quote is at byte 5 of 'math "unbalanced'
        self.assertEqual(err.count("\n"), 1)

    def test_usage_errors(self):
        for args, msg in [((), "no query given"),
                          (("x", "--limit", "-1"), "not a non-negative integer"),
                          (("x", "-n", "ten"), "not a non-negative integer"),
                          (("x", "--color", "sometimes"), "not auto, always or never"),
                          (("x", "--corpus", MIXED, "--index", "f.idx"), "cannot be used together"),
                          (("x", "--frobnicate"), "unknown option '--frobnicate'")]:
            with self.subTest(args=args):
                rc, out, err = run("search", *args)
                self.assertEqual((rc, out), (2, ""))
                self.assertIn(msg, err)
                self.assertIn("usage: essay search", err)

    def test_dashdash_allows_negation(self):
        res = search("--limit", "0", "--", "learn", "-math")
        self.assertEqual(res["query"], "learn -math")
        self.assertEqual(sorted(h["para"] for h in res["hits"]), [3, 5, 7])

    def test_human_output(self):
        rc, out, err = run("search", "数学", "-n", "2")
        self.assertEqual((rc, err), (0, ""))
        self.assertNotIn("\033[", out)
        blocks = out.rstrip("\n").split("\n\n")
        self.assertEqual(len(blocks), 2)
        res = search("数学", "-n", "2")
        for block, hit in zip(blocks, res["hits"]):
            lines = block.split("\n")
            self.assertEqual(lines[0], "%s %s %d  score %.2f" % (
                hit["essay"], hit["lang"], hit["para"], hit["score"]))
            snippet = lines[1][2:].strip("…")
            self.assertEqual(snippet, hit["snippet"])
            self.assertTrue(lines[2].startswith("    en %d  " % hit["para"]), lines[2])
        rc, out, err = run("search", "数学", "-n", "2", "--no-pair")
        self.assertEqual(len(out.rstrip("\n").split("\n\n")[0].split("\n")), 2)

    def test_color(self):
        rc, out, err = run("search", "数学", "-n", "1", "--color", "always")
        self.assertIn("\033[1;31m数学\033[0m", out)
        rc, out, err = run("search", "数学", "-n", "1", "--color=never")
        self.assertNotIn("\033[", out)
        rc, out, err = run("search", "数学", "--json", "--color", "always")
        self.assertNotIn("\033[", out)  # JSON is never coloured

    def test_color_auto_on_a_terminal(self):
        import pty
        def on_tty(env):
            master, slave = pty.openpty()
            try:
                full_env = dict(os.environ, **env)
                if "NO_COLOR" not in env:
                    full_env.pop("NO_COLOR", None)
                p = subprocess.run([BIN, "search", "数学", "-n", "1"], stdout=slave,
                                   stderr=subprocess.PIPE, env=full_env, timeout=60)
                os.close(slave)
                slave = None
                data = b""
                while True:
                    try:
                        chunk = os.read(master, 65536)
                    except OSError:
                        break
                    if not chunk:
                        break
                    data += chunk
                return p.returncode, data
            finally:
                if slave is not None:
                    os.close(slave)
                os.close(master)
        rc, data = on_tty({"TERM": "xterm"})
        self.assertEqual(rc, 0)
        self.assertIn(b"\033[1;31m", data)
        rc, data = on_tty({"TERM": "xterm", "NO_COLOR": "1"})
        self.assertEqual(rc, 0)
        self.assertNotIn(b"\033[", data)

    def test_closed_pipe_and_full_disk(self):
        r, w = os.pipe()
        os.close(r)
        try:
            p = subprocess.run([BIN, "search", "learn", "--limit", "0"], stdout=w,
                               stderr=subprocess.PIPE)
        finally:
            os.close(w)
        self.assertEqual((p.returncode, p.stderr), (0, b""))
        if os.path.exists("/dev/full"):
            with open("/dev/full", "wb") as full:
                rc, out, err = run("search", "learn", "--json", stdout=full)
            self.assertEqual(rc, 2)
            self.assertIn("No space left on device", err)


class TestIndexFile(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def build(self, *args):
        path = os.path.join(self.dir, "essays.idx")
        rc, out, err = run("index", *args, "-o", path)
        self.assertEqual((rc, out), (0, ""))
        # no progress when stderr is no terminal: at most the corpus warnings
        for line in err.splitlines():
            self.assertRegex(line, r"^essay: .*: warning: ")
        self.assertGreater(os.path.getsize(path), 0)
        return path

    def test_saved_index_answers_like_the_in_memory_one(self):
        idx = self.build(CORPUS_MD)
        for q in (["数学"], ["learn", "OR", "学习", "--limit", "0"], ['"machine learning"'],
                  ["math", "--lang", "zh"], ["optim*", "--no-pair"]):
            with self.subTest(query=q):
                rc1, saved, err1 = run("search", "--json", "--index", idx, "--", *q)
                rc2, mem, err2 = run("search", "--json", "--corpus", CORPUS_MD, "--", *q)
                rc3, emb, err3 = run("search", "--json", "--", *q)
                self.assertEqual((rc1, err1), (rc2, err2))
                self.assertEqual(saved, mem)
                self.assertEqual(saved, emb)

    def test_embedded_corpus_when_no_file_given(self):
        idx = self.build()
        self.assertEqual(run("search", "--json", "--index", idx, "数学")[1],
                         run("search", "--json", "数学")[1])

    def test_several_files_and_threads(self):
        idx = self.build(CRLF, MIXED, "--threads", "2")
        res = search("数学", "--index", idx)
        self.assertEqual([h["essay"] for h in res["hits"]], ["0104", "0104"])
        self.assertEqual(json.loads(run("stats", "--json", "--index", idx)[1])["essays"], 6)

    def test_replaces_existing_file_atomically(self):
        path = os.path.join(self.dir, "essays.idx")
        with open(path, "wb") as f:
            f.write(b"old contents")
        rc, out, err = run("index", MIXED, "-o", path)
        self.assertEqual(rc, 0, err)
        self.assertEqual(search("数学", "--index", path)["hits"][0]["essay"], "0104")
        self.assertEqual(os.listdir(self.dir), ["essays.idx"])  # no temporary left

    def test_errors(self):
        bad_dir = os.path.join(self.dir, "no", "such", "dir", "x.idx")
        rc, out, err = run("index", MIXED, "-o", bad_dir)
        self.assertEqual(rc, 2)
        self.assertIn(os.path.join(self.dir, "no", "such", "dir"), err)
        rc, out, err = run("index", MIXED)
        self.assertEqual(rc, 2)
        self.assertIn("-o FILE", err)
        rc, out, err = run("index", os.path.join(DATA, "malformed", "nul_byte.md"), "-o",
                           os.path.join(self.dir, "y.idx"))
        self.assertEqual(rc, 2)
        self.assertIn("nul_byte.md:3:3:", err)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "y.idx")))

    def test_list_and_show_read_the_corpus_inside_an_index(self):
        idx = self.build(MIXED, CRLF)
        files = ("--corpus", MIXED, CRLF)
        self.assertEqual(run("list", "--json", "--index", idx)[1],
                         run("list", "--json", *files)[1])
        for essay in ("0007", "0100", "0101", "0102", "0103", "0104"):
            with self.subTest(essay=essay):
                rc, out, err = run("show", essay, "--json", "--index", idx)
                self.assertEqual((rc, err), (0, ""))
                self.assertEqual(out, run("show", essay, "--json", *files)[1])
        self.assertEqual(run("show", "0301", "--index", idx)[0], 1)
        rc, out, err = run("list", "--index", idx, "--corpus", MIXED)
        self.assertEqual(rc, 2)
        self.assertIn("cannot be used together", err)

    def test_missing_and_corrupt_index(self):
        missing = os.path.join(self.dir, "missing.idx")
        rc, out, err = run("search", "x", "--index", missing)
        self.assertEqual(rc, 2)
        self.assertIn(missing, err)
        junk = os.path.join(self.dir, "junk.idx")
        with open(junk, "wb") as f:
            f.write(b"this is not an index file at all" * 8)
        rc, out, err = run("search", "x", "--index", junk)
        self.assertEqual((rc, out), (2, ""))
        self.assertTrue(err.startswith("essay: "))
        # a flipped byte in a real index is caught by the checksums
        idx = self.build(CORPUS_MD)
        with open(idx, "rb") as f:
            data = bytearray(f.read())
        data[len(data) // 2] ^= 0x40
        with open(junk, "wb") as f:
            f.write(data)
        rc, out, err = run("search", "math", "--index", junk)
        self.assertEqual((rc, out), (2, ""))
        self.assertTrue(err.startswith("essay: "))


class TestStats(unittest.TestCase):
    def test_embedded(self):
        rc, out, err = run("stats", "--json")
        self.assertEqual((rc, err), (0, ""))
        s = json.loads(out)
        self.assertEqual(s["essays"], 1)
        self.assertEqual(s["paragraphs"], {"en": 8, "zh": 8})
        for key in ("terms", "postings", "positions", "text_bytes", "index_bytes"):
            self.assertGreater(s[key], 0, key)
        self.assertGreaterEqual(s["positions"], s["postings"])
        self.assertGreaterEqual(s["postings"], s["terms"])
        self.assertRegex(s["icu_version"], r"^\d+(\.\d+)*$")
        self.assertRegex(s["unicode_version"], r"^\d+(\.\d+)*$")
        with open(CORPUS_MD, "rb") as f:
            self.assertLessEqual(s["text_bytes"], len(f.read()))

    def test_human_and_saved(self):
        rc, out, err = run("stats")
        self.assertEqual(rc, 0)
        self.assertRegex(out, r"(?m)^essays\s+1$")
        self.assertRegex(out, r"(?m)^paragraphs en\s+8$")
        self.assertRegex(out, r"(?m)^paragraphs zh\s+8$")
        with tempfile.TemporaryDirectory() as d:
            idx = os.path.join(d, "e.idx")
            self.assertEqual(run("index", "-o", idx)[0], 0)
            saved = json.loads(run("stats", "--json", "--index", idx)[1])
            self.assertEqual(saved["index_bytes"], os.path.getsize(idx))
            mem = json.loads(run("stats", "--json")[1])
            for key in ("essays", "paragraphs", "terms", "postings", "positions",
                        "text_bytes", "format_version"):
                self.assertEqual(saved[key], mem[key], key)
        rc, out, err = run("stats", "--corpus", MIXED, "--json")
        self.assertEqual(json.loads(out)["essays"], 5)

if __name__ == "__main__":
    unittest.main()
