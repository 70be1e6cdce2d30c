"""essay.tokenize: the analyzer's token stream, with str offsets."""

import unittest

from _support import essay


def terms(text, **kw):
    return [t.term for t in essay.tokenize(text, **kw)]


class TokenizeTest(unittest.TestCase):

    def test_traditional_folds_to_simplified(self):
        self.assertEqual(terms("數學"), terms("数学"))
        self.assertIn("数学", terms("數學"))

    def test_full_width_folds(self):
        self.assertEqual(terms("ＡＩ"), ["ai", "ai"])
        toks = essay.tokenize("ＡＩ")
        self.assertEqual([t.kind for t in toks], ["word", "exact"])
        self.assertEqual((toks[0].start, toks[0].end), (0, 2))
        self.assertEqual((toks[0].start_byte, toks[0].end_byte), (0, 6))

    def test_str_offsets_slice_the_original_text(self):
        text = "在 AI 找工作该不该学数学？ Learning DeepLearning.AI — ＡＩ 數學 naïve café"
        raw = text.encode("utf-8")
        toks = essay.tokenize(text)
        self.assertGreater(len(toks), 20)
        for t in toks:
            with self.subTest(token=t):
                self.assertEqual(text[t.start:t.end],
                                 raw[t.start_byte:t.end_byte].decode("utf-8"))
                self.assertLessEqual(t.start, t.end)
        by_src = {(text[t.start:t.end], t.kind) for t in toks}
        self.assertIn(("数学", "han_word"), by_src)
        self.assertIn(("DeepLearning.AI", "compound"), by_src)
        self.assertIn(("naïve", "word"), by_src)
        self.assertIn(("數學", "han_bigram"), by_src)

    def test_bytes_input_gives_byte_offsets(self):
        raw = "数学 AI".encode()
        toks = essay.tokenize(raw)
        for t in toks:
            self.assertEqual((t.start, t.end), (t.start_byte, t.end_byte))
        self.assertEqual(raw[toks[-1].start:toks[-1].end], b"AI")

    def test_kinds_positions_and_colocation(self):
        toks = essay.tokenize("learning 数学")
        self.assertEqual([(t.term, t.kind, t.position, t.colocated) for t in toks], [
            ("learn", "word", 0, False),
            ("learning", "exact", 0, True),
            ("数学", "han_word", 1, False),
            ("数", "han_unigram", 1, True),
            ("数学", "han_bigram", 1, True),
            ("学", "han_unigram", 2, False),
        ])
        self.assertEqual(set(essay.TOKEN_KINDS.values()),
                         {"word", "exact", "compound", "han_word", "han_unigram",
                          "han_bigram", "other"})

    def test_query_mode(self):
        self.assertEqual(terms("Learning 數學", query=True), terms("Learning 數學"))

    def test_nothing_to_index(self):
        self.assertEqual(essay.tokenize(""), [])
        self.assertEqual(essay.tokenize("  🙂 ✓ — "), [])

    def test_invalid_utf8_bytes(self):
        with self.assertRaises(essay.EssaySyntaxError) as cm:
            essay.tokenize(b"ok \xff bad")
        self.assertEqual(cm.exception.offset, 3)

    def test_lone_surrogate_cannot_be_encoded(self):
        with self.assertRaises(UnicodeEncodeError):
            essay.tokenize("a\ud800b")

    def test_callback_sees_every_token_and_can_stop(self):
        seen = []
        toks = essay.tokenize("one two three four", callback=seen.append)
        self.assertEqual(seen, toks)
        stopped = essay.tokenize("one two three four",
                                 callback=lambda t: t.term == "two")
        self.assertEqual([t.term for t in stopped][-1], "two")
        self.assertNotIn("three", [t.term for t in stopped])

    def test_callback_exception_stops_the_walk_and_propagates(self):
        seen = []

        def cb(tok):
            seen.append(tok.term)
            if len(seen) == 3:
                raise KeyError("boom")

        with self.assertRaises(KeyError) as cm:
            essay.tokenize("alpha beta gamma delta epsilon zeta", callback=cb)
        self.assertEqual(cm.exception.args, ("boom",))
        self.assertEqual(len(seen), 3)   # stopped at once

    def test_long_text(self):
        text = ("数学是人工智能的基础技能吗？ Is math foundational? " * 2000)
        toks = essay.tokenize(text)
        last = toks[-1]
        self.assertEqual(text[last.start:last.end].lower(), "foundational")

    def test_type_errors(self):
        with self.assertRaises(TypeError):
            essay.tokenize(42)


if __name__ == "__main__":
    unittest.main()
