#!/usr/bin/env python3
"""gen_corpus.py - essay-format corpora from real text in Debian packages.

Sources (never generated words):
  * English manual pages     /usr/share/man/man[1-8]       (manpages, coreutils, ...)
  * Chinese manual pages     /usr/share/man/zh_CN, zh_TW   (manpages-zh)
  * Chinese fortunes         /usr/share/games/fortunes/{chinese,tang300,song100}
                                                           (fortunes-zh)

Pages are rendered with man-db (`man --nh --nj -l`, MANWIDTH=80, C.UTF-8,
then `col -bx`) once and cached as plain text.  A rendered page is split into
sections (a line at column 0 starts one) and sub-paragraphs (blank lines);
wrapped lines are joined (without a space between two wide characters, so
Chinese words are not cut) and runs of blanks collapsed.

Essays (DESIGN §1 format):
  * bilingual: a page that exists in English and in zh_CN/zh_TW.  English title
    "name - description" from NAME, Chinese title from the Chinese NAME.  When
    every section has the same number of sub-paragraphs in both languages the
    essay is aligned paragraph by paragraph (section headings become short
    paragraphs of their own); else when the section counts match it is aligned
    section by section (one paragraph per section, sub-paragraphs as lines);
    else both sides are written as they are, unaligned.  An unaligned essay
    whose block count would look like 2N+2 loses the last paragraph of its
    longer side, so the loader never splits it by position by mistake.
  * English-only: pages without a Chinese translation.
  * Chinese-only: Chinese pages without an English original, and fortunes (one
    essay per group of entries, Chinese title in the heading).

Commands:
  gen_corpus.py real OUTDIR        the committed tests/data/real files
  gen_corpus.py gen --size 100M -o corpus.md [--cache DIR]
                                   a large corpus: every source essay, then
                                   again with new ids and a deterministic
                                   shuffle of paragraphs (pairs kept), mixed
                                   ~70% bilingual / 20% English / 10% Chinese
                                   by bytes, until SIZE bytes.

Everything is deterministic for a given set of installed packages: files are
taken in sorted order, shuffles use a fixed-seed PRNG.  Python 3 stdlib only.
"""

import argparse
import gzip
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import unicodedata
from concurrent.futures import ThreadPoolExecutor

MAN_ROOT = "/usr/share/man"
FORTUNE_DIR = "/usr/share/games/fortunes"
FORTUNE_FILES = ["tang300", "song100", "chinese"]
# Packages whose English pages `real` uses: the Linux man-pages project and
# the originals of most manpages-zh translations.
REAL_PACKAGES = ["manpages", "manpages-dev", "coreutils", "util-linux", "systemd", "passwd",
                 "login", "man-db", "procps", "mount", "gzip", "bzip2", "grep", "findutils",
                 "tar", "sed", "diffutils", "bash", "e2fsprogs"]
ZH_LOCALES = ["zh_CN", "zh_TW"]
MAX_PARA = 64 * 1024          # bytes per paragraph (well under ESSAY_MAX_PARAGRAPH_BYTES)
MAX_PARAS = 4000              # paragraphs per language per essay
RENDER_TIMEOUT = 30           # seconds; normal pages take well under one

# ---------------------------------------------------------------- text helpers

_CTRL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\ufeff]")
_ANSI = re.compile("\x1b\\[[0-9;]*[A-Za-z]")
_BLANKS = re.compile("[ \t\u00a0]+")


def is_han(ch):
    o = ord(ch)
    return (0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF
            or 0x20000 <= o <= 0x3134F or o in (0x3005, 0x3007))


def census(s):
    """(han, latin) letter counts, as the corpus loader counts them."""
    han = latin = 0
    for ch in s:
        if is_han(ch):
            han += 1
        elif ch.isalpha() and (ch < "\u0250" or "\u1e00" <= ch <= "\u1eff"
                               or "\uff21" <= ch <= "\uff5a"):
            latin += 1
    return han, latin


def wide(ch):
    return unicodedata.east_asian_width(ch) in ("W", "F")


def join_lines(lines):
    """Join wrapped lines: no space between two wide characters."""
    out = ""
    for ln in lines:
        ln = _BLANKS.sub(" ", ln.strip())
        if not ln:
            continue
        if out and not (wide(out[-1]) and wide(ln[0])):
            out += " "
        out += ln
    return out


def clean(s):
    s = _ANSI.sub("", s)
    return _CTRL.sub("", s)


def safe_line(s):
    # A line "## <digit>..." would be read as an essay heading.
    return " " + s if s.startswith("##") else s


def cut(s, limit=MAX_PARA):
    """At most `limit` UTF-8 bytes, cut at a character boundary."""
    b = s.encode("utf-8")
    if len(b) <= limit:
        return s
    return b[:limit].decode("utf-8", "ignore")


# ---------------------------------------------------------------- man pages

def man_pages(root):
    """Sorted (section, name, path) of real pages under root/man1..8:
    symlinks and `.so` stubs (aliases of other pages) are skipped."""
    out = []
    for sec in range(1, 9):
        d = os.path.join(root, "man%d" % sec)
        if not os.path.isdir(d):
            continue
        for fn in sorted(os.listdir(d)):
            p = os.path.join(d, fn)
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            try:
                opener = gzip.open if fn.endswith(".gz") else open
                with opener(p, "rb") as f:
                    head = f.read(256)
            except OSError:
                continue
            first = head.lstrip().split(b"\n", 1)[0]
            if first.startswith(b".so "):
                continue
            name = fn[:-3] if fn.endswith(".gz") else fn
            out.append((sec, name, p))
    return out


def _pipe(cmds, env, timeout):
    """Run a shell pipeline in its own process group; stdout bytes, or None
    when it fails or outlives `timeout` (the whole group is killed then)."""
    p = subprocess.Popen(cmds, shell=True, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                         start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, 9)
        except OSError:
            pass
        p.communicate()
        return None
    return out


def render(path):
    """Plain text of one page.  man-db first; a few zh_TW pages send man-db's
    pipeline into an endless troff loop (its encoding guess for zh_TW), so
    after RENDER_TIMEOUT seconds the page is rendered by groff directly, with
    the input declared UTF-8 (the same macros and device)."""
    env = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8", MANWIDTH="80",
               GROFF_NO_SGR="1")
    for k in ("MANPAGER", "PAGER", "MAN_KEEP_FORMATTING", "MANROFFOPT"):
        env.pop(k, None)
    q = "'" + path.replace("'", "'\\''") + "'"
    out = _pipe("man --nh --nj -l %s | col -bx" % q, env, RENDER_TIMEOUT)
    if not out:
        cat = "zcat" if path.endswith(".gz") else "cat"
        out = _pipe("%s %s | preconv -e UTF-8 | groff -t -man -Tutf8 -rLL=80n -rcR=1 -rHY=0 "
                    "-dAD=l -P-c -P-b -P-u | col -bx" % (cat, q), env, RENDER_TIMEOUT)
    return (out or b"").decode("utf-8", "replace")


def cached_render(pages, cache_dir, jobs=2, quiet=False):
    """{path: text}, rendering what the cache lacks (in `jobs` threads)."""
    os.makedirs(cache_dir, exist_ok=True)

    def cpath(p):
        h = hashlib.sha1(p.encode()).hexdigest()[:16]
        return os.path.join(cache_dir, h + ".txt")

    # an empty cached file is a page that failed to render: try it again
    todo = [p for _, _, p in pages
            if not os.path.exists(cpath(p)) or os.path.getsize(cpath(p)) == 0]
    if todo and not quiet:
        print("rendering %d manual pages into %s ..." % (len(todo), cache_dir),
              file=sys.stderr)

    def one(p):
        t = render(p)
        tmp = cpath(p) + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(t)
        os.replace(tmp, cpath(p))

    done = 0
    with ThreadPoolExecutor(max_workers=jobs) as ex:
        for _ in ex.map(one, todo):
            done += 1
            if not quiet and done % 1000 == 0:
                print("  %d/%d" % (done, len(todo)), file=sys.stderr)
    out = {}
    for _, _, p in pages:
        with open(cpath(p), encoding="utf-8") as f:
            out[p] = f.read()
    return out


def parse_man(text):
    """Rendered page -> (title, [(heading, [subparagraph, ...]), ...])."""
    lines = [clean(ln).rstrip() for ln in text.split("\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    if len(lines) < 3:
        return None
    lines = lines[1:-1]                       # running header and footer
    sections = []
    cur = None
    block = []

    def flush():
        if block and cur is not None:
            p = join_lines(block)
            if p:
                cur[1].append(cut(p))
        block.clear()

    for ln in lines:
        if not ln.strip():
            flush()
            continue
        if not ln[0].isspace():               # section heading
            flush()
            cur = (join_lines([ln]), [])
            sections.append(cur)
            continue
        block.append(ln)
    flush()
    sections = [s for s in sections if s[1]]
    if len(sections) < 2:
        return None
    title = cut(join_lines(sections[0][1]), 1000)
    return title, sections[1:]


# ---------------------------------------------------------------- essays

class Essay:
    """A source essay: titles and bodies; aligned when len(en) == len(zh)
    is meant as pairs."""
    __slots__ = ("title_en", "en", "title_zh", "zh", "aligned", "kind")

    def __init__(self, title_en, en, title_zh, zh, aligned, kind):
        self.title_en, self.en = title_en, en
        self.title_zh, self.zh = title_zh, zh
        self.aligned, self.kind = aligned, kind


# Sections manpages-zh adds to its translations (colophon, translators,
# translation project): not in the English page, so they are dropped before
# pairing.
_TRANSLATOR = re.compile(r"跋|中文版|翻译计划|手册翻译|翻譯計劃|譯者|译者|中国 ?linux|中國 ?linux",
                         re.IGNORECASE)


def drop_translator_sections(page):
    t, secs = page
    return t, [x for x in secs if not _TRANSLATOR.search(x[0])]


def section_paras(sections):
    out = []
    for head, subs in sections:
        out.append(safe_line(head))
        out.extend(safe_line(s) for s in subs)
    return out


def section_blocks(sections):
    out = []
    for head, subs in sections:
        lines = [safe_line(head)] + [safe_line(s) for s in subs]
        text = "\n".join(lines)
        out.append(text)
    return out


def has_han(s):
    return any(is_han(c) for c in s)


def zh_title_ok(t):
    h, l = census(t)
    return h > l


def make_bilingual(en_page, zh_page):
    (t_en, s_en), (t_zh, s_zh) = en_page, zh_page
    if not zh_title_ok(t_zh):
        # "name - 描述": try the description alone
        d = t_zh.split(" - ", 1)[-1].strip()
        if not zh_title_ok(d):
            return None
        t_zh = d
    if has_han(t_en) or any(has_han(h) or any(has_han(x) for x in subs) for h, subs in s_en):
        return None                            # English text with Han: skip
    if len(s_en) == len(s_zh) and all(len(a[1]) == len(b[1]) for a, b in zip(s_en, s_zh)):
        en, zh, aligned = section_paras(s_en), section_paras(s_zh), True
    elif len(s_en) == len(s_zh):
        en, zh = section_blocks(s_en), section_blocks(s_zh)
        aligned = all(len(p.encode()) <= MAX_PARA for p in en + zh)
        if not aligned:
            en, zh = section_paras(s_en), section_paras(s_zh)
    else:
        en, zh, aligned = section_paras(s_en), section_paras(s_zh), False
    en = [cut(p) for p in en][:MAX_PARAS]
    zh = [cut(p) for p in zh][:MAX_PARAS]
    if aligned and len(en) != len(zh):
        aligned = False
    if not en or not zh:
        return None
    return Essay(t_en, en, t_zh, zh, aligned, "bi")


def fix_unaligned(e):
    """An unaligned essay must not look like 2N+2 blocks to the loader."""
    if not e.aligned and e.en and e.zh and (len(e.en) + len(e.zh)) % 2 == 0:
        if len(e.zh) >= len(e.en):
            e.zh = e.zh[:-1]
        else:
            e.en = e.en[:-1]
    return e


def english_only(page):
    t, secs = page
    if has_han(t) or any(has_han(h) or any(has_han(x) for x in s) for h, s in secs):
        return None
    return Essay(t, section_paras(secs)[:MAX_PARAS], None, [], False, "en")


def chinese_only(page):
    t, secs = page
    if not zh_title_ok(t):
        d = t.split(" - ", 1)[-1].strip()
        if not zh_title_ok(d):
            return None
        t = d
    return Essay(None, [], t, section_paras(secs)[:MAX_PARAS], False, "zh")


def read_fortunes(name):
    path = os.path.join(FORTUNE_DIR, name)
    if not os.path.exists(path):
        path += ".u8"
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8", errors="replace") as f:
        raw = f.read()
    out = []
    for entry in re.split(r"\n%\n", raw):
        entry = clean(entry)
        paras = []
        for blk in re.split(r"\n\s*\n", entry):
            p = join_lines(blk.split("\n"))
            if p:
                paras.append(safe_line(cut(p)))
        if paras:
            out.append(" ".join(paras) if name != "chinese" else "\n".join(paras))
    return out


FORTUNE_TITLES = {"tang300": "唐诗三百首", "song100": "宋词一百首", "chinese": "中文格言与段子"}


def fortune_essays(per_essay=12):
    out = []
    for name in FORTUNE_FILES:
        entries = read_fortunes(name)
        for k in range(0, len(entries), per_essay):
            title = "%s（第%d组）" % (FORTUNE_TITLES[name], k // per_essay + 1)
            out.append(Essay(None, [], title, entries[k:k + per_essay], False, "zh"))
    return out


def format_essay(eid, e):
    parts = []
    if e.kind == "zh":
        parts.append("## %s. %s" % (eid, e.title_zh))
        parts.extend(e.zh)
    else:
        parts.append("## %s. %s" % (eid, e.title_en))
        parts.extend(e.en)
        if e.kind == "bi":
            parts.append(e.title_zh)
            parts.extend(e.zh)
    return "\n\n".join(parts) + "\n\n"


def essay_bytes(e):
    n = len((e.title_en or "").encode()) + len((e.title_zh or "").encode())
    return n + sum(len(p.encode()) + 2 for p in e.en + e.zh)


# ---------------------------------------------------------------- sources

class Sources:
    def __init__(self, cache_dir, jobs=2, quiet=False, en_pages=None):
        self.en = man_pages(MAN_ROOT) if en_pages is None else en_pages
        self.zh = {loc: man_pages(os.path.join(MAN_ROOT, loc)) for loc in ZH_LOCALES}
        every = list(self.en) + [p for loc in ZH_LOCALES for p in self.zh[loc]]
        self.text = cached_render(every, cache_dir, jobs, quiet)

    def parsed(self, path):
        return parse_man(self.text.get(path, ""))


def build_essays(src):
    """(bilingual, english_only, chinese_only) lists of Essay, deterministic."""
    en_by_key = {(s, n): p for s, n, p in src.en}
    bi, en_only, zh_only = [], [], []
    used_en = set()
    for loc in ZH_LOCALES:
        for s, n, p in src.zh[loc]:
            zp = src.parsed(p)
            if zp is None:
                continue
            zp = drop_translator_sections(zp)
            if not zp[1]:
                continue
            ep_path = en_by_key.get((s, n))
            e = None
            if ep_path is not None:
                ep = src.parsed(ep_path)
                if ep is not None:
                    e = make_bilingual(ep, zp)
                    if e is not None:
                        used_en.add(ep_path)
                        bi.append(fix_unaligned(e))
                        continue
            z = chinese_only(zp)
            if z is not None:
                zh_only.append(z)
    for s, n, p in src.en:
        if p in used_en:
            continue
        ep = src.parsed(p)
        if ep is not None:
            e = english_only(ep)
            if e is not None and e.en:
                en_only.append(e)
    zh_only.extend(fortune_essays())
    return bi, en_only, zh_only


# ---------------------------------------------------------------- `real`

def pkg_of(paths):
    """{package: version} owning `paths` (dpkg -S), for the README."""
    pk = {}
    for i in range(0, len(paths), 200):
        r = subprocess.run(["dpkg", "-S"] + paths[i:i + 200], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
        for ln in r.stdout.splitlines():
            name = ln.split(":", 1)[0].split(",")[0].strip()
            pk[name] = None
    for name in ["fortunes-zh", "manpages-zh", "man-db", "groff-base", "bsdextrautils"]:
        pk[name] = None
    for name in list(pk):
        r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", name],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        pk[name] = r.stdout.strip()
    return pk


def cmd_real(args):
    out = args.outdir
    os.makedirs(out, exist_ok=True)
    # English pages only from a fixed list of packages, so the output depends
    # on their versions (listed by --packages), not on whatever else is installed.
    en_pages = real_en_pages()
    src = Sources(args.cache, args.jobs, en_pages=en_pages)
    used = []

    # en_man.txt: paragraphs of the `manpages` sections 2-7 first.
    prose = set(subprocess.run(["dpkg", "-L", "manpages", "manpages-dev"], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True).stdout.split("\n"))
    order = sorted(en_pages, key=lambda x: (x[2] not in prose, x))
    paras, size = [], 0
    for s, n, p in order:
        pg = src.parsed(p)
        if pg is None:
            continue
        used.append(p)
        for _, subs in pg[1]:
            for sp in subs:
                paras.append(sp)
                size += len(sp.encode()) + 2
        if size >= args.en_bytes:
            break
    write(os.path.join(out, "en_man.txt"), "\n\n".join(paras) + "\n")

    # zh.txt: Chinese paragraphs of zh_CN pages, zh_TW pages, then fortunes.
    budget = {"zh_CN": args.zh_bytes * 55 // 100, "zh_TW": args.zh_bytes * 25 // 100}
    paras = []
    for loc in ZH_LOCALES:
        size = 0
        for s, n, p in src.zh[loc]:
            pg = src.parsed(p)
            if pg is None:
                continue
            used.append(p)
            for _, subs in pg[1]:
                for sp in subs:
                    if has_han(sp):
                        paras.append(sp)
                        size += len(sp.encode()) + 2
            if size >= budget[loc]:
                break
    size = 0
    for name in FORTUNE_FILES:
        for ent in read_fortunes(name)[: (200 if name == "chinese" else 60)]:
            paras.append(ent)
            size += len(ent.encode()) + 2
    write(os.path.join(out, "zh.txt"), "\n\n".join(paras) + "\n")

    # bilingual.md
    bi, en_only, zh_only = build_essays(src)
    bi_small = [e for e in bi if essay_bytes(e) <= args.max_essay]
    chosen = []
    size = 0
    target = args.bi_bytes
    # bilingual ~75%: aligned and unaligned as they come (sorted zh_CN then zh_TW),
    # taking every other small page so zh_TW pages get in as well.
    take = [e for i, e in enumerate(bi_small) if i % 2 == 0]
    for e in take:
        if size + essay_bytes(e) > target * 75 // 100:
            continue
        chosen.append(e)
        size += essay_bytes(e)
    for e in en_only[::7]:
        if essay_bytes(e) > args.max_essay:
            continue
        if size + essay_bytes(e) > target * 88 // 100:
            break
        chosen.append(e)
        size += essay_bytes(e)
    for e in zh_only[::3]:
        if essay_bytes(e) > args.max_essay:
            continue
        if size + essay_bytes(e) > target:
            break
        chosen.append(e)
        size += essay_bytes(e)
    text = "".join(format_essay("%04d" % (i + 1), e) for i, e in enumerate(chosen))
    write(os.path.join(out, "bilingual.md"), text)
    counts = {"bi": 0, "aligned": 0, "en": 0, "zh": 0}
    for e in chosen:
        counts[e.kind] += 1
        counts["aligned"] += e.kind == "bi" and e.aligned
    print("bilingual.md: %d essays (%d bilingual, %d aligned, %d English-only, "
          "%d Chinese-only)" % (len(chosen), counts["bi"], counts["aligned"], counts["en"],
                               counts["zh"]), file=sys.stderr)
    if args.packages:
        pk = pkg_of(sorted(set(used) | {p for _, _, p in en_pages}
                           | {p for loc in ZH_LOCALES for _, _, p in src.zh[loc]}))
        with open(args.packages, "w") as f:
            json.dump(pk, f, indent=1, sort_keys=True)


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    os.replace(tmp, path)
    print("%s: %d bytes" % (path, os.path.getsize(path)), file=sys.stderr)


# ---------------------------------------------------------------- `gen`

def parse_size(s):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([kKmMgG]?)[bB]?", s)
    if not m:
        raise argparse.ArgumentTypeError("bad size: " + s)
    mult = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[m.group(2).lower()]
    return int(float(m.group(1)) * mult)


def shuffled(e, rng):
    """A copy of e with its body paragraphs in a new order (pairs kept)."""
    n_en, n_zh = len(e.en), len(e.zh)
    if e.kind == "bi" and e.aligned:
        perm = list(range(n_en))
        rng.shuffle(perm)
        return Essay(e.title_en, [e.en[i] for i in perm], e.title_zh,
                     [e.zh[i] for i in perm], True, "bi")
    en = list(e.en)
    zh = list(e.zh)
    rng.shuffle(en)
    rng.shuffle(zh)
    return Essay(e.title_en, en, e.title_zh, zh, e.aligned, e.kind)


def real_en_pages():
    r = subprocess.run(["dpkg", "-L"] + REAL_PACKAGES, stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    owned = set(r.stdout.split("\n"))
    return [x for x in man_pages(MAN_ROOT) if x[2] in owned]


def cmd_gen(args):
    en = real_en_pages() if args.en_pages == "core" else None
    src = Sources(args.cache, args.jobs, quiet=args.quiet, en_pages=en)
    bi, en_only, zh_only = build_essays(src)
    streams = [(0.70, bi), (0.20, en_only), (0.10, zh_only)]
    streams = [(w, s) for w, s in streams if s]
    wsum = sum(w for w, _ in streams)
    state = [{"w": w / wsum, "src": s, "i": 0, "round": 0, "bytes": 0,
              "order": list(range(len(s)))} for w, s in streams]
    total = 0
    next_id = 1
    if args.output != "-" and os.path.dirname(args.output):
        os.makedirs(os.path.dirname(args.output), exist_ok=True)
    out = open(args.output, "w", encoding="utf-8", newline="\n") if args.output != "-" \
        else sys.stdout
    while total < args.size:
        # the stream furthest below its share goes next
        st = min(state, key=lambda x: x["bytes"] - x["w"] * total)
        if st["i"] == len(st["order"]):
            st["i"] = 0
            st["round"] += 1
            random.Random(st["round"] * 7919 + len(st["src"])).shuffle(st["order"])
        e = st["src"][st["order"][st["i"]]]
        st["i"] += 1
        if st["round"] > 0:
            e = shuffled(e, random.Random(next_id))
        text = format_essay("%07d" % next_id, e)
        next_id += 1
        b = len(text.encode("utf-8"))
        if total + b > args.size and total > 0:
            break
        out.write(text)
        total += b
        st["bytes"] += b
    if out is not sys.stdout:
        out.close()
    if not args.quiet:
        print("%s: %d bytes, %d essays" % (args.output, total, next_id - 1), file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", default=os.environ.get("ESSAY_BENCH_CACHE", "build-bench/man-cache"),
                    help="directory of rendered pages (default build-bench/man-cache)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--quiet", action="store_true")
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("real", help="write tests/data/real")
    r.add_argument("outdir")
    r.add_argument("--en-bytes", type=int, default=3 << 20)
    r.add_argument("--zh-bytes", type=int, default=1 << 20)
    r.add_argument("--bi-bytes", type=int, default=3 << 20)
    r.add_argument("--max-essay", type=int, default=48 << 10)
    r.add_argument("--packages", help="write {package: version} of the pages used (JSON)")
    g = sub.add_parser("gen", help="write a large corpus")
    g.add_argument("--size", type=parse_size, required=True, help="e.g. 10M, 100M, 1G")
    g.add_argument("-o", "--output", required=True)
    g.add_argument("--en-pages", choices=["all", "core"],
                   default=os.environ.get("ESSAY_BENCH_EN_PAGES", "all"),
                   help="English pages: every installed page (default; the first run "
                        "renders ~20,000 pages) or only those of the packages `real` uses")
    args = ap.parse_args()
    if args.cmd == "real":
        cmd_real(args)
    else:
        cmd_gen(args)


if __name__ == "__main__":
    main()
