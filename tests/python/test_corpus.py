"""Corpus parsing, loading and browsing through the binding."""

import os
import tempfile
import unittest

from _support import DATA_DIR, data, essay, tmpdir_root

ZH_LAST = ("当然，我也鼓励好奇心驱动的学习。如果某样东西让你感兴趣，那就去学习它，"
           "不管它有多有用！也许这会带来创造性的火花或技术突破。")


class DefaultCorpusTest(unittest.TestCase):

    def setUp(self):
        self.corpus = essay.Corpus.default()

    def tearDown(self):
        self.corpus.close()

    def test_essay_0301(self):
        c = self.corpus
        self.assertEqual(len(c), 1)
        self.assertEqual(c.ids, ["0301"])
        self.assertIn("0301", c)
        self.assertNotIn("301", c)
        self.assertEqual(c.warnings, [])
        e = c["0301"]
        self.assertEqual(e.id, "0301")
        self.assertEqual(e.title("en"), "Should You Learn Math to Get a Job in AI?")
        self.assertEqual(e.title("zh"), "在 AI 找工作该不该学数学？")
        self.assertTrue(e.aligned)
        self.assertEqual(e.paragraph_count("en"), 8)
        self.assertEqual(e.paragraph_count("zh"), 8)
        self.assertEqual(c.paragraph_count, 16)
        self.assertEqual(c[0], e)
        self.assertEqual(c[-1], e)
        self.assertEqual(list(c), [e])

    def test_aligned_pairs(self):
        e = self.corpus["0301"]
        en, zh = e.paragraphs("en"), e.paragraphs("zh")
        self.assertEqual(len(en), 8)
        self.assertEqual(len(zh), 8)
        for i, (p, q) in enumerate(zip(en, zh)):
            self.assertEqual((p.essay, p.lang, p.index), ("0301", "en", i))
            self.assertEqual(tuple(q.key), ("0301", "zh", i))
            self.assertEqual(p.pair, q)
            self.assertEqual(q.pair, p)
            self.assertEqual(p.pair.text, q.text)
        self.assertEqual(zh[7].text, ZH_LAST)
        self.assertEqual(en[0].text, e.title("en"))
        self.assertEqual(e.paragraph("zh", 7).text, ZH_LAST)

    def test_ordinals_are_dense(self):
        c = self.corpus
        seen = sorted(p.ordinal for p in c.paragraphs())
        self.assertEqual(seen, list(range(c.paragraph_count)))
        p = c.paragraph(3)
        self.assertEqual(p.ordinal, 3)
        with self.assertRaises(IndexError):
            c.paragraph(c.paragraph_count)

    def test_text_equals_the_source_file(self):
        path = os.path.join(DATA_DIR, "..", "..", "libessay", "corpus", "essays.md")
        with open(path, encoding="utf-8") as f:
            blocks = f.read().rstrip("\n").split("\n\n")
        e = self.corpus["0301"]
        texts = [p.text for lang in ("en", "zh") for p in e.paragraphs(lang)]
        self.assertEqual(blocks[0], "## 0301. " + texts[0])
        self.assertEqual(blocks[1:], texts[1:])

    def test_lookups_that_fail(self):
        c = self.corpus
        with self.assertRaises(KeyError):
            c["9999"]
        with self.assertRaises(KeyError):
            c["03011"]
        with self.assertRaises(IndexError):
            c[1]
        with self.assertRaises(TypeError):
            c[1.5]
        self.assertIsNone(c.get("9999"))
        e = c["0301"]
        with self.assertRaises(IndexError):
            e.paragraph("en", 8)
        with self.assertRaises(ValueError):
            e.paragraphs("fr")


class ParseTest(unittest.TestCase):

    def test_parse_mixed_file(self):
        with open(data("good", "mixed.md"), encoding="utf-8") as f:
            text = f.read()
        with essay.Corpus.parse(text, name="mixed.md") as c:
            # other essays may be added to the file; these must stay
            self.assertEqual(c.ids[:4], ["0100", "0101", "0102", "0103"])
            en_only = c["0100"]
            self.assertEqual(en_only.paragraph_count("zh"), 0)
            self.assertIsNone(en_only.title("zh"))
            self.assertIsNone(en_only.paragraph("en", 1).pair)
            zh_only = c["0101"]
            self.assertEqual(zh_only.title("zh"), "中文标题")
            self.assertEqual(zh_only.paragraph_count("en"), 0)
            mixed = c["0102"]
            self.assertEqual(mixed.title("zh"), "PyTorch 入门")
            self.assertEqual(mixed.paragraph("en", 1).pair.text, "关于 PyTorch 的一段中文。")
            mismatched = c["0103"]
            self.assertFalse(mismatched.aligned)
            self.assertIsNone(mismatched.paragraph("en", 1).pair)
            warnings = c.warnings
            about = [w for w in warnings if "0103" in w.message]
            self.assertEqual(len(about), 1, warnings)
            self.assertEqual(about[0].code, 0)
            self.assertEqual(mismatched.source[0], "mixed.md")

    def test_parse_bytes_and_str_agree(self):
        text = "## 0001. Ｏne ＡＩ\n\nAlpha “beta”.\n\n数学标题\n\n数学。\n"
        with essay.Corpus.parse(text) as a, essay.Corpus.parse(text.encode()) as b:
            self.assertEqual(a["0001"].paragraph("en", 1).text,
                             b["0001"].paragraph("en", 1).text)

    def test_crlf_and_bom(self):
        with essay.Corpus.load(data("good", "crlf_bom.md")) as c:
            self.assertGreaterEqual(len(c), 1)
            for e in c:
                for lang in ("en", "zh"):
                    for p in e.paragraphs(lang):
                        self.assertNotIn("\r", p.text)
                        self.assertNotIn("\ufeff", p.text)

    def test_load_several_files(self):
        with essay.Corpus.load([data("good", "mixed.md"),
                                os.path.join(DATA_DIR, "..", "..", "libessay", "corpus",
                                             "essays.md")]) as c:
            self.assertEqual(c.ids[:4], ["0100", "0101", "0102", "0103"])
            self.assertEqual(c.ids[-1], "0301")
            self.assertEqual(c["0301"].source[1], 1)
            self.assertTrue(c["0301"].source[0].endswith("essays.md"))

    def test_lenient_replaces_invalid_utf8(self):
        raw = b"## 0001. One\n\nAl\xffpha.\n"
        with self.assertRaises(essay.CorpusError):
            essay.Corpus.parse(raw)
        with essay.Corpus.parse(raw, lenient=True) as c:
            self.assertEqual(c["0001"].paragraph("en", 1).text, "Al\ufffdpha.")
            self.assertEqual(len(c.warnings), 1)


class MalformedTest(unittest.TestCase):
    """Every file of tests/data/malformed fails as its EXPECTED line says."""

    CLASSES = {"ESYNTAX": essay.CorpusError, "ELIMIT": essay.LimitError}

    def manifest(self):
        rows = []
        with open(data("malformed", "EXPECTED"), encoding="utf-8") as f:
            for line in f:
                line = line.split("#", 1)[0].split()
                if line:
                    name, code, where = line
                    ln, col = (int(x) for x in where.split(":"))
                    rows.append((name, code, ln, col))
        return rows

    def test_manifest_covers_every_file(self):
        files = sorted(f for f in os.listdir(data("malformed")) if f.endswith(".md"))
        self.assertEqual(sorted(r[0] for r in self.manifest()), files)

    def test_load_reports_code_and_location(self):
        for name, code, line, column in self.manifest():
            with self.subTest(file=name):
                path = data("malformed", name)
                with self.assertRaises(essay.Error) as cm:
                    essay.Corpus.load(path)
                e = cm.exception
                self.assertIsInstance(e, self.CLASSES[code])
                self.assertEqual(e.code_name, code)
                self.assertEqual((e.line, e.column), (line, column), str(e))
                self.assertEqual(e.path, path)
                self.assertTrue(str(e).startswith("%s:%d:%d: " % (path, line, column)),
                                str(e))

    def test_parse_reports_the_same_location(self):
        for name, code, line, column in self.manifest():
            with self.subTest(file=name):
                with open(data("malformed", name), "rb") as f:
                    raw = f.read()
                with self.assertRaises(essay.Error) as cm:
                    essay.Corpus.parse(raw, name=name)
                self.assertEqual((cm.exception.line, cm.exception.column), (line, column))
                self.assertEqual(cm.exception.path, name)

    def test_syntax_errors_are_value_errors(self):
        with self.assertRaises(ValueError):
            essay.Corpus.parse("no heading\n")

    def test_missing_file(self):
        missing = os.path.join(DATA_DIR, "no-such-file.md")
        with self.assertRaises(essay.Error) as cm:
            essay.Corpus.load(missing)
        self.assertIsInstance(cm.exception, (essay.NotFoundError, essay.EssayIOError))
        self.assertIn("no-such-file.md", str(cm.exception))

    def test_unreadable_path_is_an_os_error(self):
        with tempfile.TemporaryDirectory(dir=tmpdir_root()) as d:
            with self.assertRaises(essay.Error) as cm:
                essay.Corpus.load(d)   # a directory
            self.assertIn(d, str(cm.exception))


class LifetimeTest(unittest.TestCase):

    def test_use_after_close_raises(self):
        c = essay.Corpus.default()
        e = c["0301"]
        p = e.paragraph("en", 1)
        c.close()
        c.close()   # idempotent
        self.assertTrue(c.closed)
        for f in (lambda: len(c), lambda: c["0301"], lambda: c.warnings,
                  lambda: e.title("en"), lambda: e.paragraphs("zh"), lambda: p.pair,
                  lambda: list(c)):
            with self.assertRaises(essay.ClosedError):
                f()
        self.assertTrue(p.text.startswith("How much math"))   # copied: still there
        self.assertIn("closed", repr(c))

    def test_context_manager(self):
        with essay.Corpus.default() as c:
            e = c["0301"]
        self.assertTrue(c.closed)
        with self.assertRaises(essay.ClosedError):
            e.aligned
        with self.assertRaises(essay.ClosedError):
            with c:
                pass

    def test_children_keep_the_corpus_alive(self):
        e = essay.Corpus.default()["0301"]   # the Corpus object is unreferenced
        import gc
        gc.collect()
        self.assertEqual(e.paragraph("zh", 7).text, ZH_LAST)

    def test_many_corpora(self):
        for _ in range(200):
            with essay.Corpus.default() as c:
                self.assertEqual(len(c), 1)


if __name__ == "__main__":
    unittest.main()
