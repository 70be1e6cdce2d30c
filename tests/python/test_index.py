"""Index build/open/save and search through the binding."""

import gc
import os
import struct
import tempfile
import threading
import unittest

from _support import (DATA_DIR, data, essay, needs_index, not_sanitized, rss_bytes,
                      tmpdir_root)

DEFAULT_CORPUS = os.path.join(DATA_DIR, "..", "..", "libessay", "corpus", "essays.md")


def keys(results):
    return [tuple(h.key) for h in results]


def plain(results):
    """Everything a search returned, as comparable plain data."""
    return [(h.key, h.score, h.text, h.highlights, h.highlights_bytes, h.snippet,
             h.snippet_range,
             None if h.pair is None else (h.pair.key, h.pair.text, h.pair.highlights))
            for h in results]


@needs_index
class SearchTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.idx = essay.Index.default()

    @classmethod
    def tearDownClass(cls):
        cls.idx.close()

    def test_shuxue_hits_chinese_with_english_pairs(self):
        res = self.idx.search("数学")
        self.assertGreater(len(res), 0)
        self.assertEqual(res.total, len(res))
        self.assertEqual(res.query, "数学")
        for h in res:
            self.assertEqual(h.essay, "0301")
            self.assertEqual(h.lang, "zh")
            self.assertIsInstance(h.key, essay.Key)
            self.assertEqual(h.key, ("0301", "zh", h.para))
            self.assertIn("数学", h.text)
            self.assertIsNotNone(h.pair)
            self.assertEqual((h.pair.lang, h.pair.para), ("en", h.para))
            self.assertEqual(h.pair.key, ("0301", "en", h.para))
            with essay.Corpus.default() as c:
                self.assertEqual(h.pair.text, c["0301"].paragraph("en", h.para).text)
                self.assertEqual(h.text, c["0301"].paragraph("zh", h.para).text)
        scores = [h.score for h in res]
        self.assertEqual(scores, sorted(scores, reverse=True))
        self.assertIn(("0301", "zh", 0), keys(res))   # the Chinese title

    def test_highlights_are_str_indices(self):
        for query, expect in (("数学", {"数学"}), ("數學", {"数学"}),
                              ("math", {"math"}), ("learning", None)):
            with self.subTest(query=query):
                res = self.idx.search(query, limit=0)
                self.assertTrue(res)
                for h in res:
                    self.assertTrue(h.highlights)
                    raw = h.text.encode("utf-8")
                    self.assertEqual(len(h.highlights), len(h.highlights_bytes))
                    for (s, e), (bs, be) in zip(h.highlights, h.highlights_bytes):
                        self.assertLess(s, e)
                        self.assertEqual(h.text[s:e], raw[bs:be].decode("utf-8"))
                        if expect:
                            self.assertIn(h.text[s:e].lower(), expect)
                    starts = [s for s, _ in h.highlights]
                    self.assertEqual(starts, sorted(starts))
                    lo, hi = h.snippet_range
                    self.assertEqual(h.snippet, h.text[lo:hi])

    def test_pair_highlights(self):
        res = self.idx.search("数学 OR math", limit=0)
        seen = 0
        for h in res:
            if h.pair and h.pair.highlights:
                seen += 1
                raw = h.pair.text.encode()
                for (s, e), (bs, be) in zip(h.pair.highlights, h.pair.highlights_bytes):
                    self.assertEqual(h.pair.text[s:e], raw[bs:be].decode())
        self.assertGreater(seen, 0)

    def test_mixed_query_folds_like_documents(self):
        self.assertEqual(keys(self.idx.search("ＡＩ 數學", limit=0)),
                         keys(self.idx.search("ai 数学", limit=0)))

    def test_lang_filter(self):
        both = self.idx.search("math OR 数学", limit=0)
        en = self.idx.search("math OR 数学", lang="en", limit=0)
        zh = self.idx.search("math OR 数学", lang="zh", limit=0)
        self.assertTrue(en)
        self.assertTrue(zh)
        self.assertEqual({h.lang for h in en}, {"en"})
        self.assertEqual({h.lang for h in zh}, {"zh"})
        self.assertEqual(sorted(keys(en) + keys(zh)), sorted(keys(both)))
        self.assertEqual(keys(self.idx.search("数学 lang:zh", limit=0)), keys(
            self.idx.search("数学", lang="zh", limit=0)))
        self.assertEqual(len(self.idx.search("数学", lang="en")), 0)
        with self.assertRaises(ValueError):
            self.idx.search("数学", lang="fr")

    def test_limit_and_offset(self):
        every = self.idx.search("math OR 数学", limit=0)
        n = len(every)
        self.assertGreater(n, 4)
        self.assertEqual(every.total, n)
        self.assertEqual(keys(self.idx.search("math OR 数学", limit=3)), keys(every)[:3])
        page = self.idx.search("math OR 数学", limit=3, offset=2)
        self.assertEqual(keys(page), keys(every)[2:5])
        self.assertEqual(page.total, n)
        self.assertEqual(len(self.idx.search("math OR 数学", offset=n)), 0)
        self.assertEqual(len(self.idx.search("math OR 数学", limit=1)), 1)
        with self.assertRaises(ValueError):
            self.idx.search("math", limit=-1)

    def test_no_pair_and_no_highlight(self):
        h = self.idx.search("数学", pair=False, limit=1)[0]
        self.assertIsNone(h.pair)
        h = self.idx.search("数学", highlight=False, limit=1)[0]
        self.assertEqual(h.highlights, [])
        self.assertEqual(keys(self.idx.search("数学", highlight=False, pair=False)),
                         keys(self.idx.search("数学")))

    def test_snippet_bytes(self):
        h = self.idx.search("数学", limit=1, snippet_bytes=30)[0]
        self.assertLessEqual(len(h.snippet.encode()), 60)
        self.assertIn("数学", h.snippet)
        long = self.idx.search("数学", limit=1, snippet_bytes=100000)[0]
        self.assertEqual(long.snippet, long.text)

    def test_no_match(self):
        res = self.idx.search("zzzyzzy")
        self.assertEqual(len(res), 0)
        self.assertEqual(res.total, 0)
        self.assertFalse(res)

    def test_syntax_error_has_offset(self):
        query = "数学 AND (math"
        with self.assertRaises(essay.QuerySyntaxError) as cm:
            self.idx.search(query)
        e = cm.exception
        self.assertEqual(e.code_name, "ESYNTAX")
        self.assertIsInstance(e, essay.EssaySyntaxError)
        self.assertIsInstance(e, ValueError)
        self.assertTrue(str(e))
        self.assertGreaterEqual(e.offset, 0)
        self.assertLessEqual(e.offset, len(query.encode()))
        self.assertEqual(e.position, len(query.encode()[:e.offset].decode()))
        for bad in ('"unclosed', "数学 OR", "(", "-math", "lang:fr 数学"):
            with self.subTest(query=bad):
                with self.assertRaises(essay.QuerySyntaxError) as cm:
                    self.idx.search(bad)
                self.assertLessEqual(cm.exception.offset, len(bad.encode()))
        with self.assertRaises(essay.QuerySyntaxError) as cm:
            self.idx.search("数学数学 )")
        self.assertEqual(cm.exception.offset, len("数学数学 ".encode()))
        self.assertEqual(cm.exception.position, len("数学数学 "))

    def test_limits(self):
        with self.assertRaises(essay.LimitError):
            self.idx.search("x" * 5000)
        with self.assertRaises(essay.LimitError):
            self.idx.search(" OR ".join("w%d" % i for i in range(100)))

    def test_results_sequence(self):
        res = self.idx.search("math OR 数学", limit=4)
        self.assertEqual(len(res), 4)
        self.assertEqual(list(res), [res[i] for i in range(4)])
        self.assertEqual(res[-1], list(res)[-1])
        self.assertEqual(len(res[1:3]), 2)
        self.assertEqual(res.keys, keys(res))
        d = res.to_dict()
        self.assertEqual(set(d), {"query", "total", "hits"})
        self.assertEqual(set(d["hits"][0]), {"essay", "lang", "para", "score", "text",
                                             "highlights", "snippet", "pair"})
        self.assertIn("Results", repr(res))
        with res:
            pass
        self.assertTrue(res.closed)
        with self.assertRaises(essay.ClosedError):
            len(res)

    def test_results_keep_the_index_alive(self):
        res = essay.Index.default().search("数学")   # index unreferenced
        gc.collect()
        self.assertIsNotNone(res.index)
        self.assertEqual(len(res.index.search("数学")), len(res))
        h = res[0]
        self.assertIs(h.index, res.index)

    def test_bytes_query(self):
        self.assertEqual(keys(self.idx.search("数学".encode())), keys(self.idx.search("数学")))


@needs_index
class IndexTest(unittest.TestCase):

    def test_corpus_of_an_index(self):
        with essay.Index.default() as idx:
            c = idx.corpus
            self.assertIs(idx.corpus, c)
            e = c["0301"]
            self.assertEqual(e.paragraph_count("en"), 8)
            self.assertEqual(e.paragraph("zh", 3).pair.key, ("0301", "en", 3))
            c.close()                 # closing the borrowed corpus leaves the index
            self.assertTrue(idx.search("数学"))
            self.assertEqual(len(idx.corpus), 1)
        with self.assertRaises(essay.ClosedError):
            e.title("en")

    def test_stats(self):
        with essay.Index.default() as idx:
            s = idx.stats()
            self.assertEqual(s.essays, 1)
            self.assertEqual((s.paragraphs_en, s.paragraphs_zh), (8, 8))
            self.assertEqual(s.paragraphs, 16)
            self.assertGreater(s.terms, 100)
            self.assertGreaterEqual(s.positions, s.postings)
            self.assertGreater(s.index_bytes, s.text_bytes)
            self.assertGreaterEqual(s.format_version, 1)
            self.assertRegex(s.icu_version, r"^\d+")
            d = s.as_dict()
            self.assertEqual(d["essays"], 1)
            self.assertEqual(idx.warnings, [])
            self.assertEqual(len(idx.image()), s.index_bytes)

    def test_build_from_corpus_paths_and_default_agree(self):
        with essay.Index.default() as a, essay.Corpus.default() as c, \
                essay.Index.build(c, threads=1) as b, \
                essay.Index.build(DEFAULT_CORPUS, threads=2) as d:
            for q in ("数学", "math OR learning", '"machine learning"', "optim*"):
                with self.subTest(query=q):
                    self.assertEqual(plain(a.search(q, limit=0)), plain(b.search(q, limit=0)))
                    self.assertEqual(plain(a.search(q, limit=0)), plain(d.search(q, limit=0)))

    def test_build_from_several_files(self):
        with essay.Index.build([data("good", "mixed.md"), DEFAULT_CORPUS]) as idx:
            self.assertEqual(idx.stats().essays, len(idx.corpus))
            hits = idx.search("PyTorch", limit=0)
            self.assertIn("0102", {h.essay for h in hits})
            unaligned = [h for h in idx.search("One OR Two", limit=0) if h.essay == "0103"]
            self.assertTrue(unaligned)
            self.assertTrue(all(h.pair is None for h in unaligned))

    def test_build_corpus_error(self):
        with self.assertRaises(essay.CorpusError) as cm:
            essay.Index.build(data("malformed", "duplicate_id.md"))
        self.assertEqual((cm.exception.line, cm.exception.column), (9, 4))

    def test_progress_callback(self):
        calls = []
        with essay.Corpus.default() as c:
            with essay.Index.build(c, progress=lambda d, t: calls.append((d, t))):
                pass
        self.assertTrue(calls)
        self.assertEqual(calls[-1][0], calls[-1][1])
        self.assertEqual([d for d, _ in calls], sorted(d for d, _ in calls))

    def test_progress_exception_propagates(self):
        def boom(done, total):
            raise RuntimeError("stop building")
        with essay.Corpus.default() as c:
            with self.assertRaises(RuntimeError) as cm:
                essay.Index.build(c, progress=boom)
        self.assertEqual(str(cm.exception), "stop building")

    def test_use_after_close(self):
        idx = essay.Index.default()
        corpus = idx.corpus
        idx.close()
        idx.close()
        self.assertTrue(idx.closed)
        self.assertTrue(corpus.closed)
        for f in (lambda: idx.search("数学"), idx.stats, idx.image, lambda: idx.corpus,
                  lambda: idx.save("/nonexistent/x.idx"), lambda: len(corpus),
                  lambda: idx.warnings):
            with self.assertRaises(essay.ClosedError):
                f()
        with self.assertRaises(essay.ClosedError):
            with idx:
                pass

    def test_close_while_searching_waits(self):
        idx = essay.Index.default()
        errors = []
        stop = threading.Event()

        def worker():
            while not stop.is_set():
                try:
                    idx.search("math OR 数学", limit=0)
                except essay.ClosedError:
                    return
                except Exception as e:   # pragma: no cover - reported below
                    errors.append(e)
                    return

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        idx.close()          # freed only once no search is running
        stop.set()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])

    def test_handles_are_typed(self):
        import ctypes
        with essay.Corpus.default() as c, essay.Index.default() as idx:
            with self.assertRaises(ctypes.ArgumentError):
                essay._lib.lib.essay_index_search(c._handle, b"x", 1, None, None, None)
            with self.assertRaises(ctypes.ArgumentError):
                essay._lib.lib.essay_corpus_article_count(idx._handle)


@needs_index
class FileTest(unittest.TestCase):

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(dir=tmpdir_root())
        self.dir = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def saved(self, name="essays.idx"):
        path = os.path.join(self.dir, name)
        with essay.Index.default() as idx:
            idx.save(path)
        return path

    def test_save_open_round_trip(self):
        path = os.path.join(self.dir, "essays.idx")
        queries = ("数学", "math", '"machine learning"', "learn* -math", "AI 数学",
                   "essay:0301 title OR 标题", "lang:en neural network")
        with essay.Index.default() as mem:
            mem.save(path)
            self.assertEqual(os.listdir(self.dir), ["essays.idx"])   # no temp left
            with open(path, "rb") as f:
                self.assertEqual(f.read(), mem.image())
            for trusted in (False, True):
                with essay.Index.open(path, trusted=trusted) as disk:
                    self.assertEqual(disk.stats(), mem.stats())
                    for q in queries:
                        with self.subTest(query=q, trusted=trusted):
                            self.assertEqual(plain(disk.search(q, limit=0)),
                                             plain(mem.search(q, limit=0)))
                    c = disk.corpus
                    self.assertEqual(c["0301"].paragraph("zh", 7).text,
                                     mem.corpus["0301"].paragraph("zh", 7).text)
            with essay.Index.from_bytes(mem.image()) as m2:
                self.assertEqual(plain(m2.search("数学")), plain(mem.search("数学")))

    def test_path_like_and_overwrite(self):
        import pathlib
        p = pathlib.Path(self.dir) / "x.idx"
        with essay.Index.build(data("good", "mixed.md")) as small:
            small.save(p)
        with essay.Index.default() as idx:
            idx.save(p)                           # atomically replaced
        with essay.Index.open(p) as idx:
            self.assertEqual(idx.stats().essays, 1)

    def test_corrupt_file(self):
        path = self.saved()
        with open(path, "rb") as f:
            image = bytearray(f.read())
        flipped = bytearray(image)
        flipped[len(image) // 2] ^= 0x40
        truncated = image[:len(image) // 3]
        for name, blob in (("flipped", flipped), ("truncated", truncated),
                           ("magic", b"NOTANIDX" + image[8:]), ("empty", b""),
                           ("garbage", os.urandom(4096))):
            with self.subTest(case=name):
                bad = os.path.join(self.dir, name + ".idx")
                with open(bad, "wb") as f:
                    f.write(blob)
                with self.assertRaises(essay.CorruptIndexError) as cm:
                    essay.Index.open(bad)
                self.assertIn(name + ".idx", str(cm.exception))
                with self.assertRaises(essay.CorruptIndexError):
                    essay.Index.from_bytes(blob)

    def test_corrupt_trusted_never_crashes(self):
        path = self.saved()
        with open(path, "rb") as f:
            image = f.read()
        step = max(1, len(image) // 97)
        for pos in range(64, len(image), step):
            blob = bytearray(image)
            blob[pos] ^= 0xFF
            try:
                with essay.Index.from_bytes(blob, trusted=True) as idx:
                    idx.search("数学 OR math OR learn*", limit=0)
                    len(idx.corpus)
            except essay.Error as e:
                self.assertIsInstance(e, (essay.CorruptIndexError, essay.VersionError))

    def test_unsupported_version(self):
        path = self.saved()
        with open(path, "rb") as f:
            image = bytearray(f.read())
        image[8:12] = struct.pack("<I", 999)
        with self.assertRaises(essay.VersionError) as cm:
            essay.Index.from_bytes(image)
        self.assertIn("999", str(cm.exception))

    def test_missing_file(self):
        with self.assertRaises(essay.Error) as cm:
            essay.Index.open(os.path.join(self.dir, "none.idx"))
        self.assertIsInstance(cm.exception, (essay.NotFoundError, essay.EssayIOError))
        self.assertIn("none.idx", str(cm.exception))

    def test_build_file_equals_build_and_save(self):
        path = os.path.join(self.dir, "streamed.idx")
        with essay.Corpus.default() as corpus:
            with essay.Index.build(corpus) as mem, \
                    essay.Index.build_file(corpus, path, threads=1) as disk:
                self.assertEqual(os.listdir(self.dir), ["streamed.idx"])
                with open(path, "rb") as f:
                    self.assertEqual(f.read(), mem.image())
                self.assertEqual(plain(disk.search("数学 OR math", limit=0)),
                                 plain(mem.search("数学 OR math", limit=0)))
        with self.assertRaises(essay.EssayIOError):
            with essay.Corpus.default() as corpus:
                essay.Index.build_file(corpus, os.path.join(self.dir, "no", "x.idx"))

    def test_save_error_is_an_oserror(self):
        with essay.Index.default() as idx:
            with self.assertRaises(OSError) as cm:
                idx.save(os.path.join(self.dir, "no", "such", "dir", "x.idx"))
        self.assertIsInstance(cm.exception, essay.EssayIOError)
        self.assertIn("x.idx", str(cm.exception))


@needs_index
class ConcurrencyTest(unittest.TestCase):

    QUERIES = ["数学", "math", "learning OR 学习", '"machine learning"', "optim*",
               "neural -network", "AI 数学", "lang:en math", "數學", "the"]

    def test_threads_share_one_index(self):
        with essay.Index.default() as idx:
            expected = {q: plain(idx.search(q, limit=0)) for q in self.QUERIES}
            failures = []

            def worker(seed):
                try:
                    for i in range(300):
                        q = self.QUERIES[(seed + i) % len(self.QUERIES)]
                        got = plain(idx.search(q, limit=0))
                        if got != expected[q]:
                            failures.append((q, seed, i))
                            return
                except Exception as e:   # pragma: no cover - reported below
                    failures.append(e)

            threads = [threading.Thread(target=worker, args=(s,)) for s in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual(failures, [])


@needs_index
class MemoryTest(unittest.TestCase):

    @not_sanitized
    def test_100000_searches_do_not_grow_rss(self):
        queries = ["数学", "math OR learning", '"bad" -math', "(", "AI 数学"]
        with essay.Index.default() as idx:
            def run(n):
                for i in range(n):
                    q = queries[i % len(queries)]
                    try:
                        res = idx.search(q, limit=3)
                        if res:
                            res[0].pair
                    except essay.QuerySyntaxError:
                        pass
            run(5000)                          # warm up: caches, allocator arenas
            gc.collect()
            before = rss_bytes()
            run(100000)
            gc.collect()
            grown = rss_bytes() - before
        # A leak of even 100 bytes a search would show as ~10 MB.
        self.assertLess(grown, 4 << 20, "RSS grew by %d bytes" % grown)


if __name__ == "__main__":
    unittest.main()
