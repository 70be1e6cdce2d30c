"""``python -m essay``: a thin command line over the binding.

    python -m essay search 数学 [--lang en|zh] [--limit N] [--offset N] [--json]
                               [--corpus FILE ...] [--index FILE] [--no-pair]
    python -m essay list [--json] [--corpus FILE ...] [--index FILE]
    python -m essay show 0301 [--lang en|zh|both] [--json] [--corpus FILE ...] [--index FILE]
    python -m essay tokenize [TEXT ...] [--query] [--json]
    python -m essay stats [--json] [--corpus FILE ...] [--index FILE]

It mirrors the C ``essay`` command: ``--json`` output has the same structure
(``{"query", "total", "hits": [{"essay", "lang", "para", "score", "text",
"highlights": [[start, end], ...], "snippet", "pair": {...} | null}]}``,
highlights as byte offsets into the UTF-8 text, as DESIGN §3 defines them;
``show --json`` and ``tokenize --json`` print JSON Lines with the C command's
keys), and ``show`` / ``tokenize`` text output matches it line for line;
exit status is grep-like: 0 found, 1 nothing found, 2 error.  Highlights in
text output are coloured on a terminal only, and never when NO_COLOR is set.
"""

import argparse
import json
import os
import sys

__all__ = ["main"]

_BOLD, _RESET = "\033[1;31m", "\033[0m"


def _colour(stream):
    return stream.isatty() and not os.environ.get("NO_COLOR")


def _mark(text, spans, lo=0, hi=None, colour=False):
    """``text[lo:hi]`` with the str-index ``spans`` emphasised."""
    hi = len(text) if hi is None else hi
    before, after = (_BOLD, _RESET) if colour else ("[", "]")
    out, pos = [], lo
    for s, e in spans:
        s, e = max(s, lo), min(e, hi)
        if s >= e:
            continue
        out.append(text[pos:s])
        out.append(before + text[s:e] + after)
        pos = e
    out.append(text[pos:hi])
    return "".join(out)


def _load_corpus(paths):
    """Load corpus files, reporting their warnings on stderr as the C
    command does."""
    import essay
    corpus = essay.Corpus.load(paths)
    for w in corpus.warnings:
        sys.stderr.write("essay: %s\n" % w)
    return corpus


def _open_index(args):
    import essay
    if args.index:
        idx = essay.Index.open(args.index)
        for w in idx.warnings:
            sys.stderr.write("essay: %s\n" % w)
        return idx
    if args.corpus:
        with _load_corpus(args.corpus) as corpus:
            return essay.Index.build(corpus)
    return essay.Index.default()


def _open_corpus(args):
    """(corpus, owner to close) for show."""
    import essay
    if args.corpus:
        c = _load_corpus(args.corpus)
        return c, c
    if args.index:
        idx = _open_index(args)
        return idx.corpus, idx
    c = essay.Corpus.default()
    return c, c


def _cmd_search(args, out):
    with _open_index(args) as idx:
        res = idx.search(args.query, lang=args.lang, limit=args.limit,
                         offset=args.offset, snippet_bytes=args.snippet_bytes,
                         pair=not args.no_pair)
        if args.json:
            json.dump(res.to_dict(), out, ensure_ascii=False, separators=(",", ":"))
            out.write("\n")
        else:
            colour = _colour(out)
            for hit in res:
                lo, hi = hit.snippet_range
                snippet = _mark(hit.text, hit.highlights, lo, hi, colour)
                if lo > 0:
                    snippet = "…" + snippet
                if hi < len(hit.text):
                    snippet += "…"
                out.write("%s/%s/%d  %.4f\n    %s\n" % (hit.essay, hit.lang, hit.para,
                                                       hit.score, snippet))
                if hit.pair is not None:
                    p = hit.pair
                    out.write("    = %s/%d: %s\n" % (p.lang, p.para,
                                                     _mark(p.text, p.highlights,
                                                           colour=colour)))
            out.write("%d of %d matching paragraphs\n" % (len(res), res.total)
                      if res.total else "no match\n")
        return 0 if len(res) else 1


def _alignment(e):
    n_en, n_zh = e.paragraph_count("en"), e.paragraph_count("zh")
    if n_en and not n_zh:
        return "en-only"
    if n_zh and not n_en:
        return "zh-only"
    return "aligned" if e.aligned else "unaligned"


def _cmd_list(args, out):
    corpus, owner = _open_corpus(args)
    with owner:
        essays = list(corpus)
        rows = [(e.id, e.paragraph_count("en"), e.paragraph_count("zh")) for e in essays]
        w_id = max([4] + [len(r[0]) for r in rows])
        w_en = max([1] + [len(str(r[1])) for r in rows])
        w_zh = max([1] + [len(str(r[2])) for r in rows])
        for e, (ident, n_en, n_zh) in zip(essays, rows):
            if args.json:
                path, line = e.source
                json.dump({"essay": ident, "en": n_en, "zh": n_zh, "aligned": e.aligned,
                           "title_en": e.title("en"), "title_zh": e.title("zh"),
                           "source": path or None, "line": line},
                          out, ensure_ascii=False, separators=(",", ":"))
                out.write("\n")
            else:
                title = e.title("en")
                if title is None:
                    title = e.title("zh") or ""
                out.write("%-*s  en %*d  zh %*d  %-9s  %s\n"
                          % (w_id, ident, w_en, n_en, w_zh, n_zh, _alignment(e), title))
        return 0


def _cmd_show(args, out):
    corpus, owner = _open_corpus(args)
    with owner:
        e = corpus.get(args.essay)
        if e is None:
            sys.stderr.write("essay: no essay with id '%s'\n" % args.essay)
            return 1
        colour = not args.json and _colour(out)
        first = [True]

        def para(p, together=False):
            if args.json:
                pair = p.pair
                json.dump({"essay": p.essay, "lang": p.lang, "para": p.index,
                           "text": p.text,
                           "pair": ({"lang": pair.lang, "para": pair.index}
                                    if pair is not None else None)},
                          out, ensure_ascii=False, separators=(",", ":"))
                out.write("\n")
                return
            if not first[0] and not together:
                out.write("\n")   # a blank line between paragraphs (or pairs)
            first[0] = False
            label = "[%s %d]" % (p.lang, p.index)
            out.write("%s %s\n" % ("\033[2m%s\033[0m" % label if colour else label, p.text))

        lang = None if args.lang in (None, "both") else args.lang
        if lang is None and e.aligned:
            # Same order as the C command: each English paragraph, then its pair.
            for p in e.paragraphs("en"):
                para(p)
                q = p.pair
                if q is not None:
                    para(q, together=True)
        else:
            for l in ("en", "zh"):
                if lang in (None, l):
                    for p in e.paragraphs(l):
                        para(p)
        return 0


def _cmd_tokenize(args, out):
    import essay
    text = " ".join(args.text) if args.text else sys.stdin.read()
    tokens = essay.tokenize(text, query=args.query)
    for t in tokens:
        src = text[t.start:t.end]
        if args.json:
            json.dump({"kind": t.kind, "term": t.term, "start": t.start_byte,
                       "end": t.end_byte, "position": t.position,
                       "colocated": t.colocated, "text": src},
                      out, ensure_ascii=False, separators=(",", ":"))
            out.write("\n")
        else:
            out.write("%-11s  %-9s  %-5s  %s  %s\n"
                      % (t.kind, "%d-%d" % (t.start_byte, t.end_byte),
                         "%d%s" % (t.position, "=" if t.colocated else ""),
                         _pad(t.term, 16), src))
    return 0 if tokens else 1


def _pad(s, width):
    """``s`` padded to ``width`` terminal columns (wide characters take 2)."""
    import unicodedata
    w = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
    return s + " " * max(0, width - w)


def _cmd_stats(args, out):
    with _open_index(args) as idx:
        s = idx.stats().as_dict()
        if args.json:
            json.dump(s, out, ensure_ascii=False, separators=(",", ":"))
            out.write("\n")
        else:
            for k, v in s.items():
                out.write("%-16s %s\n" % (k, v))
    return 0


def _parser():
    p = argparse.ArgumentParser(prog="python -m essay",
                                description="Search and browse a bilingual essay corpus.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def source(sp):
        sp.add_argument("--corpus", nargs="+", metavar="FILE",
                        help="essay-format files (default: the embedded corpus)")
        sp.add_argument("--index", metavar="FILE", help="an index file to open")

    s = sub.add_parser("search", help="search paragraphs")
    s.add_argument("query")
    s.add_argument("--lang", choices=("en", "zh"))
    s.add_argument("--limit", type=int, default=10, help="most hits (0 = all)")
    s.add_argument("--offset", type=int, default=0, help="hits to skip")
    s.add_argument("--snippet-bytes", type=int, default=160)
    s.add_argument("--no-pair", action="store_true", help="omit aligned paragraphs")
    s.add_argument("--json", action="store_true")
    source(s)
    s.set_defaults(run=_cmd_search)

    s = sub.add_parser("list", help="list the essays of a corpus")
    s.add_argument("--json", action="store_true")
    source(s)
    s.set_defaults(run=_cmd_list)

    s = sub.add_parser("show", help="print the paragraphs of one essay")
    s.add_argument("essay", help="essay id, e.g. 0301")
    s.add_argument("--lang", choices=("en", "zh", "both"), default="both")
    s.add_argument("--json", action="store_true")
    source(s)
    s.set_defaults(run=_cmd_show)

    s = sub.add_parser("tokenize", help="print the analyzer's tokens")
    s.add_argument("text", nargs="*", help="text (default: standard input)")
    s.add_argument("--query", action="store_true", help="analyze as a query")
    s.add_argument("--json", action="store_true")
    s.set_defaults(run=_cmd_tokenize)

    s = sub.add_parser("stats", help="figures about an index")
    s.add_argument("--json", action="store_true")
    source(s)
    s.set_defaults(run=_cmd_stats)
    return p


def main(argv=None):
    """Run the command line; return the exit status (0, 1 or 2)."""
    args = _parser().parse_args(argv)
    try:
        import essay
    except ImportError as e:
        sys.stderr.write("essay: %s\n" % e)
        return 2
    out = sys.stdout
    try:
        return args.run(args, out)
    except essay.Error as e:
        sys.stderr.write("essay: %s\n" % e)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
