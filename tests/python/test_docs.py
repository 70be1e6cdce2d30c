"""Every public object has a docstring; the README's examples run."""

import inspect
import os
import re
import subprocess
import sys
import tempfile
import unittest

from _support import BINDING_DIR, essay, has_index, tmpdir_root


class DocstringTest(unittest.TestCase):

    def test_public_objects_are_documented(self):
        missing = []
        self.assertTrue(essay.__doc__)
        for name in essay.__all__:
            obj = getattr(essay, name)
            if isinstance(obj, (str, int, dict)):
                continue
            if not (getattr(obj, "__doc__", None) or "").strip():
                missing.append(name)
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if attr.startswith("_") and attr not in ("__getitem__", "__init__"):
                        continue
                    if isinstance(member, (classmethod, staticmethod)):
                        member = member.__func__
                    if inspect.isfunction(member) or isinstance(member, property):
                        if attr == "__init__" or attr in ("count", "index"):
                            continue
                        if not (member.__doc__ or "").strip():
                            missing.append("%s.%s" % (name, attr))
        self.assertEqual(missing, [])


class ReadmeTest(unittest.TestCase):

    def blocks(self):
        with open(os.path.join(BINDING_DIR, "README.md"), encoding="utf-8") as f:
            return re.findall(r"```python\n(.*?)```", f.read(), flags=re.S)

    @unittest.skipUnless(has_index(), "the README example searches")
    def test_examples_run(self):
        blocks = self.blocks()
        self.assertGreaterEqual(len(blocks), 2)
        env = dict(os.environ, PYTHONPATH=BINDING_DIR)
        with tempfile.TemporaryDirectory(dir=tmpdir_root()) as d:
            # the second example indexes files it names: give it some
            with open(os.path.join(BINDING_DIR, "..", "..", "libessay", "corpus",
                                   "essays.md"), encoding="utf-8") as f:
                text = f.read()
            with open(os.path.join(d, "essays.md"), "w", encoding="utf-8") as f:
                f.write(text)
            with open(os.path.join(d, "more.md"), "w", encoding="utf-8") as f:
                f.write("## 0999. More\n\nAnother essay about math.\n")
            for i, code in enumerate(blocks):
                with self.subTest(block=i):
                    r = subprocess.run([sys.executable, "-c", code], cwd=d, env=env,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       timeout=120)
                    self.assertEqual(r.returncode, 0, r.stderr.decode())
                    self.assertTrue(r.stdout)


if __name__ == "__main__":
    unittest.main()
