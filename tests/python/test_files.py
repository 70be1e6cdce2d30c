"""Committed index files: the golden file of the current format answers as
recorded, older ones answer or are refused with VersionError, and every
damaged file of tests/data/corrupt fails with its recorded code and offset."""

import glob
import os
import re
import unittest

from _support import data, essay, needs_index

CLASSES = {-5: essay.CorruptIndexError, -6: essay.VersionError}


def golden_versions():
    """Format versions with a golden file, oldest first."""
    names = glob.glob(data("golden", "v*-default.essayidx"))
    return sorted(int(re.search(r"v(\d+)-default", n).group(1)) for n in names)


def golden_answers(version):
    """[(query, second field, total, [(key, score, n_highlights), ...])]
    from golden/v<version>-default.answers (written by the C tests)."""
    with open(data("golden", "v%d-default.answers" % version), encoding="utf-8") as f:
        chunks = f.read().rstrip("\n").split("|")
    out = []
    header = chunks[0]
    for chunk in chunks[1:]:
        items = chunk.split(";")
        query, field, total = header.rsplit(":", 2)
        hits = []
        for item in items[:-1]:
            ident, lang, para, whole, frac, n_hl = item.split(".")
            hits.append(((ident, ("en", "zh")[int(lang)], int(para)),
                         float(whole + "." + frac), int(n_hl)))
        out.append((query, int(field), int(total), hits))
        header = items[-1]
    return out


@needs_index
class GoldenTest(unittest.TestCase):

    def test_current_golden_answers(self):
        self.check(golden_versions()[-1])

    def test_older_golden_files(self):
        for v in golden_versions()[:-1]:
            with self.subTest(version=v):
                try:
                    self.check(v)
                except essay.VersionError:
                    pass  # an older format this library no longer reads

    def check(self, version):
        answers = golden_answers(version)
        self.assertGreater(len(answers), 5)
        with essay.Index.open(data("golden", "v%d-default.essayidx" % version)) as idx:
            for query, field, total, hits in answers:
                with self.subTest(query=query):
                    res = idx.search(query, limit=field)
                    self.assertEqual(res.total, total)
                    self.assertEqual([h.key for h in res], [k for k, _, _ in hits])
                    for h, (_, score, n_hl) in zip(res, hits):
                        self.assertAlmostEqual(h.score, score, places=5)
                        self.assertEqual(len(h.highlights), n_hl)


@needs_index
class CorruptFilesTest(unittest.TestCase):

    def manifest(self):
        rows = []
        with open(data("corrupt", "EXPECTED"), encoding="utf-8") as f:
            for line in f:
                line = line.split("#", 1)[0].split()
                if line:
                    rows.append((line[0], int(line[1]), int(line[2])))
        return rows

    def test_every_damaged_file(self):
        rows = self.manifest()
        self.assertEqual(sorted(r[0] for r in rows),
                         sorted(f for f in os.listdir(data("corrupt"))
                                if f.endswith(".essayidx")))
        for name, code, offset in rows:
            for trusted in (False, True):
                with self.subTest(file=name, trusted=trusted):
                    path = data("corrupt", name)
                    try:
                        with essay.Index.open(path, trusted=trusted) as idx:
                            idx.search("数学 OR learn*", limit=0)
                    except essay.Error as e:
                        self.assertIsInstance(e, (essay.CorruptIndexError,
                                                  essay.VersionError))
                        if not trusted:
                            self.assertIsInstance(e, CLASSES[code])
                            self.assertEqual(e.code, code)
                            self.assertEqual(e.offset, offset, str(e))
                            self.assertIn(name, str(e))
                    else:
                        # trusted skips checksums: only checksum damage may pass
                        self.assertTrue(trusted and "checksum" in name, name)


if __name__ == "__main__":
    unittest.main()
