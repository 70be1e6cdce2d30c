"""The ctypes declarations match include/essay.h."""

import ctypes
import re
import unittest

from _support import HEADER, essay

from essay import _ffi


def header_text():
    with open(HEADER, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)   # comments hold examples
    return re.sub(r"//[^\n]*", " ", text)


def header_functions():
    """name -> declaration text of every ESSAY_API function."""
    out = {}
    for m in re.finditer(r"^\s*ESSAY_API\b(.*?);", header_text(), flags=re.S | re.M):
        decl = " ".join(m.group(1).split())
        name = re.search(r"(\w+)\s*\(", decl).group(1)
        out[name] = decl
    return out


def header_int(name):
    m = re.search(r"#define\s+%s\s+\(?(\d+)u?\)?" % name, header_text())
    return int(m.group(1)) if m else None


def param_count(decl):
    params = decl[decl.index("(") + 1:decl.rindex(")")].strip()
    return 0 if params in ("", "void") else params.count(",") + 1


class DeclarationTest(unittest.TestCase):

    def test_every_essay_api_function_is_declared(self):
        names = header_functions()
        self.assertGreater(len(names), 40)
        missing = sorted(set(names) - set(_ffi.FUNCTIONS))
        self.assertEqual(missing, [], "ESSAY_API functions missing from _ffi.py")
        extra = sorted(set(_ffi.FUNCTIONS) - set(names))
        self.assertEqual(extra, [], "_ffi.py declares functions the header lacks")

    def test_argument_counts_match_the_header(self):
        for name, decl in header_functions().items():
            with self.subTest(name=name):
                self.assertEqual(len(_ffi.FUNCTIONS[name][1]), param_count(decl), decl)

    def test_void_functions_have_no_restype(self):
        for name, decl in header_functions().items():
            with self.subTest(name=name):
                returns_void = re.match(r"void\s+\w+\s*\(", decl) is not None
                self.assertEqual(_ffi.FUNCTIONS[name][0] is None, returns_void, decl)

    def test_constants_match_the_header(self):
        for macro, value in [("ESSAY_VERSION_MAJOR", _ffi.VERSION_MAJOR),
                             ("ESSAY_ERROR_PATH_MAX", _ffi.ERROR_PATH_MAX),
                             ("ESSAY_ERROR_MESSAGE_MAX", _ffi.ERROR_MESSAGE_MAX),
                             ("ESSAY_CORPUS_LENIENT", _ffi.CORPUS_LENIENT),
                             ("ESSAY_CORPUS_OPTIONS_VERSION", _ffi.CORPUS_OPTIONS_VERSION),
                             ("ESSAY_BUILD_OPTIONS_VERSION", _ffi.BUILD_OPTIONS_VERSION),
                             ("ESSAY_SEARCH_OPTIONS_VERSION", _ffi.SEARCH_OPTIONS_VERSION),
                             ("ESSAY_SEARCH_NO_PAIR", _ffi.SEARCH_NO_PAIR),
                             ("ESSAY_SEARCH_NO_HIGHLIGHT", _ffi.SEARCH_NO_HIGHLIGHT),
                             ("ESSAY_OPEN_TRUSTED", _ffi.OPEN_TRUSTED),
                             ("ESSAY_TOKENIZE_QUERY", _ffi.TOKENIZE_QUERY),
                             ("ESSAY_MAX_QUERY_BYTES", _ffi.MAX_QUERY_BYTES),
                             ("ESSAY_MAX_QUERY_TERMS", _ffi.MAX_QUERY_TERMS),
                             ("ESSAY_MAX_RESULTS", _ffi.MAX_RESULTS)]:
            with self.subTest(macro=macro):
                self.assertEqual(header_int(macro), value)
        text = header_text()
        for name in ("OK", "EINVAL", "ENOMEM", "EIO", "ESYNTAX", "ECORRUPT",
                     "EVERSION", "ENOTFOUND", "ELIMIT", "EICU"):
            m = re.search(r"ESSAY_%s\s*=\s*(-?\d+)" % name, text)
            self.assertEqual(int(m.group(1)), getattr(_ffi, name), name)

    def test_struct_layouts(self):
        # Sizes on LP64 computed from the header's field lists.
        if ctypes.sizeof(ctypes.c_void_p) != 8:
            self.skipTest("layout figures are for LP64")
        self.assertEqual(ctypes.sizeof(_ffi.EssayError), 4 + 4 + 4 + 4 + 8 + 256 + 512)
        self.assertEqual(_ffi.EssayError.offset.offset, 16)
        self.assertEqual(ctypes.sizeof(_ffi.EssayToken), 8 * 4 + 4 + 4)
        self.assertEqual(ctypes.sizeof(_ffi.EssayCorpusOptions), 16)
        self.assertEqual(ctypes.sizeof(_ffi.EssayBuildOptions), 24)
        self.assertEqual(ctypes.sizeof(_ffi.EssaySearchOptions), 48)
        self.assertEqual(ctypes.sizeof(_ffi.EssaySpan), 16)
        self.assertEqual(ctypes.sizeof(_ffi.EssayHit), 136)
        self.assertEqual(_ffi.EssayHit.has_pair.offset, 88)
        self.assertEqual(_ffi.EssayHit.pair_para.offset, 96)
        self.assertEqual(ctypes.sizeof(_ffi.EssayIndexStats), 8 * 8 + 4 + 16 + 16 + 4)

    def test_corpus_options_init_matches_the_macro(self):
        opts = _ffi.EssayCorpusOptions()
        self.assertEqual(essay._lib.lib.essay_corpus_options_init(ctypes.byref(opts), 1), 0)
        self.assertEqual((opts.version, opts.flags, opts.max_bytes), (1, 0, 0))

    def test_handles_do_not_mix(self):
        with self.assertRaises(ctypes.ArgumentError):
            essay._lib.lib.essay_corpus_article_count(_ffi.IndexP())
        with self.assertRaises(ctypes.ArgumentError):
            essay._lib.lib.essay_corpus_article_count(12345)


class LibraryTest(unittest.TestCase):

    def test_version(self):
        self.assertEqual(essay.library_version_number // 10000, _ffi.VERSION_MAJOR)
        parts = [int(x) for x in essay.library_version.split(".")]
        self.assertEqual(parts[0] * 10000 + parts[1] * 100 + parts[2],
                         essay.library_version_number)
        self.assertEqual(header_int("ESSAY_VERSION_MAJOR") * 10000
                         + header_int("ESSAY_VERSION_MINOR") * 100
                         + header_int("ESSAY_VERSION_PATCH"),
                         essay.library_version_number)

    def test_strerror(self):
        from essay._errors import error_string
        self.assertIn("memory", error_string(_ffi.ENOMEM))

    def test_missing_symbol_is_a_clear_error_not_an_import_failure(self):
        from essay._library import Library
        lib = Library(ctypes.CDLL(None), "<process>", "test")
        self.assertFalse(lib.has("essay_index_search"))
        with self.assertRaises(essay.MissingFunctionError) as cm:
            lib.essay_index_search
        self.assertIn("essay_index_search", str(cm.exception))
        self.assertIsInstance(cm.exception, NotImplementedError)


class ErrorMappingTest(unittest.TestCase):

    def make(self, code, syntax=None):
        from essay._errors import from_struct
        e = _ffi.EssayError()
        e.code, e.line, e.column, e.offset = code, 3, 7, 42
        e.path = b"f.md"
        e.message = "f.md:3:7: something".encode()
        return from_struct(code, e, syntax) if syntax else from_struct(code, e)

    def test_codes_map_to_classes(self):
        expect = {
            _ffi.EINVAL: (essay.InvalidArgumentError, ValueError),
            _ffi.ENOMEM: (essay.EssayMemoryError, MemoryError),
            _ffi.EIO: (essay.EssayIOError, OSError),
            _ffi.ESYNTAX: (essay.EssaySyntaxError, ValueError),
            _ffi.ECORRUPT: (essay.CorruptIndexError, essay.Error),
            _ffi.EVERSION: (essay.VersionError, essay.Error),
            _ffi.ENOTFOUND: (essay.NotFoundError, FileNotFoundError),
            _ffi.ELIMIT: (essay.LimitError, essay.Error),
            _ffi.EICU: (essay.ICUError, essay.Error),
        }
        for code, classes in expect.items():
            with self.subTest(code=code):
                e = self.make(code)
                for cls in classes:
                    self.assertIsInstance(e, cls)
                self.assertIsInstance(e, essay.Error)
                self.assertEqual((e.code, e.path, e.line, e.column, e.offset),
                                 (code, "f.md", 3, 7, 42))
                self.assertEqual(str(e), "f.md:3:7: something")
        self.assertIsInstance(self.make(_ffi.ESYNTAX, essay.CorpusError), essay.CorpusError)
        self.assertIsInstance(self.make(_ffi.ESYNTAX, essay.QuerySyntaxError),
                              essay.QuerySyntaxError)
        self.assertIsInstance(self.make(_ffi.EIO, essay.CorpusError), essay.EssayIOError)

    def test_unfilled_report_falls_back_to_strerror(self):
        from essay._errors import from_struct
        e = from_struct(_ffi.ENOMEM, _ffi.EssayError())
        self.assertIsInstance(e, MemoryError)
        self.assertIn("memory", str(e))
        self.assertEqual((e.line, e.path), (0, ""))
