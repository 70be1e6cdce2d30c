"""``python -m essay``: a thin command line over the binding.

    python -m essay search 数学 [--lang en|zh] [--limit N] [--offset N] [--json]
                               [--corpus FILE ...] [--index FILE] [--no-pair]
    python -m essay show 0301 [--lang en|zh] [--json] [--corpus FILE ...] [--index FILE]
    python -m essay tokenize TEXT [--query] [--json]
    python -m essay stats [--json] [--corpus FILE ...] [--index FILE]

It mirrors the C ``essay`` command: ``--json`` output has the same structure
(``{"query", "total", "hits": [{"essay", "lang", "para", "score", "text",
"highlights": [[start, end], ...], "snippet", "pair": {...} | null}]}``,
highlights as byte offsets into the UTF-8 text, as DESIGN §3 defines them);
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


def _open_index(args):
    import essay
    if args.index:
        return essay.Index.open(args.index)
    if args.corpus:
        return essay.Index.build(args.corpus)
    return essay.Index.default()


def _open_corpus(args):
    """(corpus, owner to close) for show."""
    import essay
    if args.corpus:
        c = essay.Corpus.load(args.corpus)
        return c, c
    if args.index:
        idx = essay.Index.open(args.index)
        return idx.corpus, idx
    c = essay.Corpus.default()
    return c, c


def _cmd_search(args, out):
    with _open_index(args) as idx:
        res = idx.search(args.query, lang=args.lang, limit=args.limit,
                         offset=args.offset, snippet_bytes=args.snippet_bytes,
                         pair=not args.no_pair)
        if args.json:
            json.dump(res.to_dict(), out, ensure_ascii=False)
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


def _cmd_show(args, out):
    corpus, owner = _open_corpus(args)
    with owner:
        e = corpus.get(args.essay)
        if e is None:
            sys.stderr.write("essay: no essay %s\n" % args.essay)
            return 1
        langs = [args.lang] if args.lang else ["en", "zh"]
        if args.json:
            path, line = e.source
            doc = {"essay": e.id, "aligned": e.aligned,
                   "source": {"path": path, "line": line},
                   "titles": {l: e.title(l) for l in langs},
                   "paragraphs": {l: [p.text for p in e.paragraphs(l)] for l in langs}}
            json.dump(doc, out, ensure_ascii=False)
            out.write("\n")
            return 0
        # Essay format: the output parses back to the same essay.  The
        # heading carries the first printed language's title.
        blocks = []
        for lang in langs:
            for p in e.paragraphs(lang):
                if not blocks:
                    blocks.append("## %s. %s" % (e.id, p.text))
                else:
                    blocks.append(p.text)
        out.write("\n\n".join(blocks) + "\n")
        return 0


def _cmd_tokenize(args, out):
    import essay
    tokens = essay.tokenize(args.text, query=args.query)
    if args.json:
        json.dump([{"term": t.term, "kind": t.kind, "start": t.start_byte,
                    "end": t.end_byte, "position": t.position,
                    "colocated": t.colocated} for t in tokens], out, ensure_ascii=False)
        out.write("\n")
    else:
        for t in tokens:
            out.write("%s\t%s\t[%d,%d)\tpos %d%s\n"
                      % (t.term, t.kind, t.start_byte, t.end_byte, t.position,
                         "\tcolocated" if t.colocated else ""))
    return 0 if tokens else 1


def _cmd_stats(args, out):
    with _open_index(args) as idx:
        s = idx.stats().as_dict()
        if args.json:
            json.dump(s, out, ensure_ascii=False)
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

    s = sub.add_parser("show", help="print one essay")
    s.add_argument("essay", help="essay id, e.g. 0301")
    s.add_argument("--lang", choices=("en", "zh"))
    s.add_argument("--json", action="store_true")
    source(s)
    s.set_defaults(run=_cmd_show)

    s = sub.add_parser("tokenize", help="print the analyzer's tokens")
    s.add_argument("text")
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
