"""``python -m essay``: a thin command line over the binding.

    python -m essay search 数学 [--lang en|zh] [-n|--limit N] [--offset N] [--json]
                               [--corpus FILE ...] [--index FILE] [--no-pair]
                               [--color auto|always|never]
    python -m essay list [--json] [--corpus FILE ...] [--index FILE]
    python -m essay show 0301 [--lang en|zh|both] [--json] [--corpus FILE ...] [--index FILE]
    python -m essay tokenize [TEXT ...] [--query] [--json]
    python -m essay index [CORPUS ...] -o FILE [--threads N]
    python -m essay stats [--json] [--corpus FILE ...] [--index FILE]

It mirrors the C ``essay`` command: ``--json`` output has the same structure
(``{"query", "total", "hits": [{"essay", "lang", "para", "score", "text",
"highlights": [[start, end], ...], "snippet", "pair": {...} | null}]}``,
highlights as byte offsets into the UTF-8 text, as DESIGN §3 defines them;
``show --json`` and ``tokenize --json`` print JSON Lines with the C command's
keys), and the text output matches it line for line;
exit status is grep-like: 0 found, 1 nothing found, 2 error.  Highlights in
text output are coloured on a terminal only, and never when NO_COLOR is set.
"""

import argparse
import json
import os
import sys

__all__ = ["main"]

def _colour(stream):
    return stream.isatty() and not os.environ.get("NO_COLOR")


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


_SGR_MATCH, _SGR_HEAD, _SGR_DIM, _SGR_RESET = "\033[1;31m", "\033[35m", "\033[2m", "\033[0m"


def _print_text(raw, start, end, spans, indent, colour):
    """raw[start:end] (UTF-8 bytes) with byte ``spans`` highlighted and
    ``indent`` after every line break (the C command's print_text)."""
    out, pos, s = [], start, 0
    indent = indent.encode()
    match, reset = (_SGR_MATCH.encode(), _SGR_RESET.encode()) if colour else (b"", b"")
    while pos < end:
        while s < len(spans) and spans[s][1] <= pos:
            s += 1
        inside = s < len(spans) and spans[s][0] <= pos
        stop = end
        if s < len(spans):
            stop = spans[s][1] if inside else spans[s][0]
        stop = min(stop, end)
        piece = raw[pos:stop].split(b"\n")
        glue = (reset if inside else b"") + b"\n" + indent + (match if inside else b"")
        out.append((match if inside else b"") + glue.join(piece) + (reset if inside else b""))
        pos = stop
    return b"".join(out).decode("utf-8", "replace")


def _pair_window(hit_raw, snippet, pair_raw, pair_spans, pair_lang):
    """Byte range of the pair to print (the C command's pair_window)."""
    length, text_len = len(pair_raw), len(hit_raw)
    snip = snippet[1] - snippet[0]
    budget = int(snip * length / text_len) if text_len else length
    budget = max(budget, 160)
    if length <= budget + budget // 4:
        return 0, length
    if pair_spans:
        centre = pair_spans[0][0]
    else:
        centre = int((snippet[0] + snippet[1]) / 2.0 * length / text_len) if text_len else 0
    start = centre - budget // 2 if centre > budget // 2 else 0
    if start + budget > length:
        start = length - budget
    end = start + budget
    cont = lambda i: (pair_raw[i] & 0xC0) == 0x80
    while start > 0 and cont(start):
        start -= 1
    while end < length and cont(end):
        end -= 1
    if pair_lang == "en":
        # Do not cut English words: widen the start to the word's beginning
        # and narrow the end to a space, each by at most 24 bytes.
        sp = ord(" ")
        s, lim = start, (start - 24 if start > 24 else 0)
        while s > lim and pair_raw[s - 1] != sp:
            s -= 1
        if s == 0 or pair_raw[s - 1] == sp:
            start = s
        e = end
        lim = end - 24 if end > start + 24 else start
        while end < length and e > lim and pair_raw[e] != sp:
            e -= 1
        if end < length and pair_raw[e] == sp:
            end = e
    return start, end


def _print_hit(hit, first, colour, out):
    head, dim, reset = (_SGR_HEAD, _SGR_DIM, _SGR_RESET) if colour else ("", "", "")
    raw = hit.text.encode("utf-8")
    ss = len(hit.text[:hit.snippet_range[0]].encode("utf-8"))
    se = ss + len(hit.snippet.encode("utf-8"))
    parts = [] if first else ["\n"]
    parts.append("%s%s %s %d%s  score %.2f\n  " % (head, hit.essay, hit.lang, hit.para,
                                                   reset, hit.score))
    if ss > 0:
        parts.append("…")
    parts.append(_print_text(raw, ss, se, hit.highlights_bytes, "  ", colour))
    if se < len(raw):
        parts.append("…")
    parts.append("\n")
    p = hit.pair
    if p is not None:
        praw = p.text.encode("utf-8")
        start, end = _pair_window(raw, (ss, se), praw, p.highlights_bytes, p.lang)
        parts.append("    %s%s %d%s  " % (dim, p.lang, p.para, reset))
        if start > 0:
            parts.append("…")
        parts.append(_print_text(praw, start, end, p.highlights_bytes, "    ", colour))
        if end < len(praw):
            parts.append("…")
        parts.append("\n")
    out.write("".join(parts))


def _cmd_search(args, out):
    if args.index and args.corpus:
        sys.stderr.write("essay: --corpus and --index cannot be used together\n")
        return 2
    query = " ".join(args.query)
    with _open_index(args) as idx:
        res = idx.search(query, lang=args.lang, limit=min(args.limit, 100000),
                         offset=args.offset, snippet_bytes=args.snippet_bytes,
                         pair=not args.no_pair)
        if args.json:
            json.dump(res.to_dict(), out, ensure_ascii=False, separators=(",", ":"))
            out.write("\n")
        else:
            colour = (args.color == "always"
                      or (args.color == "auto" and _colour(out)))
            for i, hit in enumerate(res):
                _print_hit(hit, i == 0, colour, out)
        return 0 if len(res) else 1


def _cmd_index(args, out):
    import essay
    if args.corpus:
        corpus = _load_corpus(args.corpus)
    else:
        corpus = essay.Corpus.default()
    tty = sys.stderr.isatty()
    shown = [None]

    def progress(done, total):
        percent = done * 100 // total if total else 100
        if shown[0] == percent:
            return
        shown[0] = percent
        sys.stderr.write("\ressay: indexing %d/%d paragraphs (%d%%)" % (done, total, percent))
        sys.stderr.flush()

    with corpus:
        try:
            idx = essay.Index.build(corpus, threads=args.threads,
                                    progress=progress if tty else None)
        finally:
            if shown[0] is not None:
                sys.stderr.write("\r\033[K")
    with idx:
        idx.save(args.output)
        if tty:
            s = idx.stats()
            sys.stderr.write("essay: indexed %d essay%s, %d paragraphs into %s (%d bytes)\n"
                             % (s.essays, "" if s.essays == 1 else "s", s.paragraphs,
                                args.output, s.index_bytes))
    return 0


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
    if args.index and args.corpus:
        sys.stderr.write("essay: --corpus and --index cannot be used together\n")
        return 2
    with _open_index(args) as idx:
        s = idx.stats()
        if args.json:
            doc = {"essays": s.essays,
                   "paragraphs": {"en": s.paragraphs_en, "zh": s.paragraphs_zh},
                   "terms": s.terms, "postings": s.postings, "positions": s.positions,
                   "text_bytes": s.text_bytes, "index_bytes": s.index_bytes,
                   "format_version": s.format_version, "icu_version": s.icu_version,
                   "unicode_version": s.unicode_version}
            json.dump(doc, out, ensure_ascii=False, separators=(",", ":"))
            out.write("\n")
        else:
            for label, value in (("essays", s.essays), ("paragraphs en", s.paragraphs_en),
                                 ("paragraphs zh", s.paragraphs_zh), ("terms", s.terms),
                                 ("postings", s.postings), ("positions", s.positions),
                                 ("text bytes", s.text_bytes),
                                 ("index bytes", s.index_bytes),
                                 ("format version", s.format_version),
                                 ("ICU version", s.icu_version),
                                 ("Unicode version", s.unicode_version)):
                out.write("%-15s %s\n" % (label, value))
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

    s = sub.add_parser("search", help="find paragraphs matching a query")
    s.add_argument("query", nargs="+", help="the query (words joined by spaces)")
    s.add_argument("--lang", choices=("en", "zh"))
    s.add_argument("-n", "--limit", type=int, default=10, help="most hits (0 = all)")
    s.add_argument("--offset", type=int, default=0, help="hits to skip")
    s.add_argument("--snippet-bytes", type=int, default=160)
    s.add_argument("--no-pair", action="store_true", help="omit aligned paragraphs")
    s.add_argument("--color", "--colour", choices=("auto", "always", "never"),
                   default="auto", help="highlight matches (auto: on a terminal "
                   "unless NO_COLOR is set)")
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

    s = sub.add_parser("index", help="build an index file from corpus files")
    s.add_argument("corpus", nargs="*", metavar="CORPUS",
                   help="essay-format files (default: the embedded corpus)")
    s.add_argument("-o", "--output", required=True, help="where to save the index")
    s.add_argument("--threads", type=int, default=0, help="0 = every online core")
    s.set_defaults(run=_cmd_index)

    s = sub.add_parser("stats", help="show figures about an index")
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
