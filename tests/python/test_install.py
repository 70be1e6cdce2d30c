"""pip install --no-build-isolation of bindings/python into a fresh venv,
offline, then use the installed package against the built library."""

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

from _support import BINDING_DIR, essay, has_index, not_sanitized, tmpdir_root

try:
    import venv  # noqa: F401  (only whether it exists)
    HAVE_VENV = True
except ImportError:
    HAVE_VENV = False

SCRIPT = textwrap.dedent('''
    import os, sys
    import essay
    assert os.path.realpath(essay.library_path) == os.path.realpath(os.environ["ESSAY_LIBRARY"]), essay.library_path
    assert "site-packages" in essay.__file__, essay.__file__
    with essay.Corpus.default() as c:
        e = c["0301"]
        assert e.paragraph("zh", 1).pair.text.startswith("How much math")
    assert [t.term for t in essay.tokenize("數學")][0] == "数学"
    if sys.argv[1] == "search":
        with essay.Index.default() as idx:
            hit = idx.search("数学", limit=1)[0]
            s, e = hit.highlights[0]
            assert hit.text[s:e] == "数学"
    print("installed ok", essay.__version__, essay.library_version)
''')


@unittest.skipUnless(HAVE_VENV, "the venv module is not available in this Python")
class InstallTest(unittest.TestCase):

    @not_sanitized
    def test_pip_install_into_a_venv(self):
        with tempfile.TemporaryDirectory(dir=tmpdir_root()) as d:
            env_dir = os.path.join(d, "venv")
            r = subprocess.run([sys.executable, "-m", "venv", env_dir],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=300)
            if r.returncode != 0 and b"ensurepip" in r.stdout:
                self.skipTest("venv cannot install pip here (no ensurepip): "
                              + r.stdout.decode(errors="replace")[-200:])
            self.assertEqual(r.returncode, 0, r.stdout.decode(errors="replace"))
            py = os.path.join(env_dir, "bin", "python")
            # No setuptools/wheel needed: the in-tree backend falls back to
            # the standard library (bindings/python/_backend).
            # Build from a copy, so the source tree gets no build/ or egg-info.
            src = os.path.join(d, "src")
            shutil.copytree(BINDING_DIR, src,
                            ignore=shutil.ignore_patterns("__pycache__", "build",
                                                          "*.egg-info"))
            env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1",
                       PIP_NO_INPUT="1")
            env.pop("PYTHONPATH", None)
            r = subprocess.run([py, "-m", "pip", "install", "--no-build-isolation",
                                "--no-index", src], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, env=env, cwd=d, timeout=600)
            self.assertEqual(r.returncode, 0, r.stdout.decode(errors="replace"))
            env["ESSAY_LIBRARY"] = os.path.realpath(essay.library_path)
            r = subprocess.run([py, "-c", SCRIPT, "search" if has_index() else "corpus"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env=env, cwd=d, timeout=300)
            self.assertEqual(r.returncode, 0, r.stdout.decode(errors="replace"))
            self.assertIn(b"installed ok", r.stdout)
            r = subprocess.run([os.path.join(env_dir, "bin", "essay-py"), "show", "0301",
                                "--lang", "en"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, env=env, cwd=d, timeout=300)
            self.assertEqual(r.returncode, 0, r.stdout.decode(errors="replace"))
            self.assertTrue(r.stdout.startswith(b"[en 0] Should You Learn Math"))


class LookupTest(unittest.TestCase):
    """The library lookup rules, each in a fresh interpreter."""

    def run_import(self, env_library, cwd):
        env = dict(os.environ, PYTHONPATH=BINDING_DIR)
        if env_library is None:
            env.pop("ESSAY_LIBRARY", None)
        else:
            env["ESSAY_LIBRARY"] = env_library
        return subprocess.run([sys.executable, "-c",
                               "import essay; print(essay.library_path)"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                              cwd=cwd, timeout=120)

    def test_essay_library_must_exist(self):
        r = self.run_import("/nonexistent/libessay.so.0", "/")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"ESSAY_LIBRARY=/nonexistent/libessay.so.0", r.stderr)
        self.assertIn(b"ImportError", r.stderr)

    def test_build_tree_from_the_package_directory(self):
        # The package lives in <source>/bindings/python: walking up finds
        # <source>/build*/libessay.so.0 whatever the current directory.
        r = self.run_import(None, "/")
        self.assertEqual(r.returncode, 0, r.stderr)
        path = r.stdout.decode().strip()
        self.assertTrue(os.path.basename(os.path.dirname(path)).startswith("build"), path)

    def test_version_mismatch_message(self):
        from essay import _library
        lib = _library.load()
        saved = _library._ffi.VERSION_MAJOR
        _library._ffi.VERSION_MAJOR = saved + 7
        try:
            with self.assertRaises(ImportError) as cm:
                _library.load()
        finally:
            _library._ffi.VERSION_MAJOR = saved
        msg = str(cm.exception)
        self.assertIn(lib.version_string, msg)
        self.assertIn("major version %d" % (saved + 7), msg)
        self.assertIn(lib.path, msg)


if __name__ == "__main__":
    unittest.main()
