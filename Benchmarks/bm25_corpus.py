#!/usr/bin/env python3
"""A real English text corpus from this machine's man pages, for the BM25 benchmark
(Benchmarks/run_bm25.sh → `strata bench bm25-encode` → `strata bench sparse` and
sparse_peer.py).

Usage:
  bm25_corpus.py OUT_DIR [--man-root /usr/share/man] [--sections 1,2,3,4,5,6,7,8]
                 [--min-words 36] [--max-words 72] [--queries 1000] [--seed 1]

Source: every page file /usr/share/man/man<S>/*.<S>*.gz (gzip'd troff, English only:
the language subdirectories are not read). Pages that are only `.so` links to another
page, and pages whose plain text equals an earlier page's, are skipped (first in
sorted path order wins).

Troff → plain text (a line-based stripper, no groff; deterministic and fast):
  * dropped: comments (`.\\"`, `\\"`, `\\#`), macro/string definitions (`.de`/`.de1`/`.am`
    … `..`), ignored blocks (`.ig` … `..`), conditionals (`.if`/`.ie`/`.el`), every other
    request or macro line except those that carry text (below), table format lines
    (`.TS` up to the line ending in `.`), URLs of `.UR`/`.MT`;
  * text macros keep their arguments, quotes removed: man(7) `.B .I .BI .BR .IB .IR .RB
    .RI .SB .SM .TP-tag line .IP tag .TQ .OP`; mdoc(7) (`.Nm .Nd .Fl .Ar .Op .Xr .Pa .Cm
    .It` …): the arguments minus the mdoc macro names, `Fl x` → `-x`, `Xr ls 1` → `ls(1)`;
  * escapes: fonts `\\fB \\f(CW \\f[..]`, sizes `\\s±N`, registers `\\n`, motions and
    drawing (`\\h \\v \\w \\l \\D \\o \\X \\Z \\k \\z`), zero-width `\\& \\| \\^ \\c \\%`
    removed; `\\-` → `-`; `\\e` → `\\`; `\\(xx`, `\\[xx]`, `\\*(xx` mapped to their ASCII
    look-alikes (quotes, dashes, bullets dropped, `\\[uXXXX]` → the character), others
    removed;
  * section headings (`.SH`/`.Sh`/`.SS`/`.Ss`) become paragraph breaks and metadata,
    not passage text; `.PP .P .LP .Pp .sp .TP .IP .RS .Bl .It` break paragraphs.

Passages: each page's paragraphs (whitespace-normalised) are packed greedily, in page
order, into passages of --min-words..--max-words words; a paragraph longer than
--max-words is cut at word boundaries into near-equal pieces; a page's short tail is
merged into its previous passage (up to 1.5 × max) or kept alone. Each passage keeps
its page name, manual section, the heading where it starts and its index within the page.

Queries: the NAME-section description of each page (`ls \\- list directory contents` →
`list directory contents`; mdoc `.Nd`), lowercased and whitespace-normalised,
deduplicated, 2..24 words; --queries of them drawn uniformly at random (seeded) among
the distinct ones. Each records the pages it describes.

Files:
  passages.jsonl  one JSON object a line: {"id", "page", "section", "heading", "part", "text"}
  queries.jsonl   {"id", "text", "page", "section"}
  meta.json       counts, sizes, average lengths, seed, the parameters above.
"""
import argparse, gzip, hashlib, json, os, random, re, sys, time
from collections import Counter

CHARS = {  # \(xx and \[xx] special characters → ASCII look-alikes ('' = dropped)
    "em": "-", "en": "-", "hy": "-", "mi": "-", "pl": "+", "mu": "x", "di": "/", "eq": "=",
    "lq": '"', "rq": '"', "oq": "'", "cq": "'", "aq": "'", "dq": '"', "Lq": '"', "Rq": '"',
    "ga": "`", "ti": "~", "ha": "^", "rs": "\\", "sl": "/", "ba": "|", "br": "|", "or": "|",
    "co": "(c)", "rg": "(R)", "tm": "(TM)", "bu": "", "ci": "", "sq": "", "de": " degrees",
    ">=": ">=", "<=": "<=", "!=": "!=", "==": "==", "->": "->", "<-": "<-", "fo": "<", "fc": ">",
    "Fo": "<<", "Fc": ">>", "at": "@", "sh": "#", "Do": "$", "dg": "", "lB": "[", "rB": "]",
    "lC": "{", "rC": "}", "la": "<", "ra": ">", "cu": "", "ca": "", "aa": "'", "a^": "^", "a~": "~",
    "'e": "é", "'a": "á", "`e": "è", ":o": "ö", ":u": "ü", ":a": "ä", "ss": "ß", "12": "1/2",
}
STRINGS = {"--": "-", 'L"': '"', 'R"': '"', "C+": "C++", "PI": "pi", "Tm": "(TM)", "lq": '"', "rq": '"',
           "C`": '"', "C'": '"', "R": "(R)", "Ba": "|", "Le": "<=", "Ge": ">=", "Pi": "pi", "Ne": "!=",
           "Am": "&", "Aq": "'", "Lq": '"', "Rq": '"', "Q": '"', "q": '"'}
MDOC = set("""Ad An Ao Ac Ap Aq Ar At Bc Bd Bf Bk Bl Bo Bq Brc Bro Brq Bsx Bt Bx Cd Cm D1 Db Dc Dd Dl Do Dq Dt Dv
Dx Ec Ed Ef Ek El Em En Eo Er Es Ev Ex Fa Fc Fd Fl Fn Fo Fr Ft Fx Hf Ic In It Lb Li Lk Lp Ms Mt Nd Nm No Ns Nx Oc Oo Op
Os Ot Ox Pa Pc Pf Po Pp Pq Qc Ql Qo Qq Re Rs Rv Sc Sh Sm So Sq Ss St Sx Sy Sx Ta Tn Ud Ux Va Vt Xc Xo Xr %A %B %C %D
%I %J %N %O %P %Q %R %T %U %V""".split())
MDOC_TEXT = {"Nm", "Nd", "Fl", "Ar", "Op", "Oo", "Oc", "Xr", "Pa", "Cm", "It", "Dq", "Qq", "Sq", "Pq", "Ql", "Em", "Sy",
             "Li", "Ev", "Er", "Dv", "Fn", "Fa", "Ft", "Fo", "Va", "Vt", "Ic", "Tn", "D1", "Dl", "Ad", "An", "Lk", "Mt",
             "Aq", "Bq", "Brq", "Sx", "Cd", "In", "%A", "%B", "%T", "%J", "%D", "%O", "Ux", "Bx", "Nx", "Fx", "Ox", "Bsx",
             "St", "At", "Lb", "Ms", "No", "Ns", "Pf", "Ap", "Eo", "Ec"}
BREAKS = {"PP", "P", "LP", "Pp", "Lp", "sp", "TP", "IP", "RS", "RE", "Bl", "El", "It", "HP", "TQ", "Bd", "Ed", "nf", "fi",
          "EX", "EE", "Vb", "Ve", "br", "D1", "Dl"}
HEADINGS = {"SH", "Sh", "SS", "Ss"}

ESCAPE = re.compile(r"""\\(?:
    f(?:\[[^\]]*\]|\(..|.)            # font
  | s(?:[+-]?\d+|\([+-]?\d\d|\[[^\]]*\]|'[^']*')   # size
  | n[+-]?(?:\[[^\]]*\]|\(..|.)       # register
  | [hvwlLDoXZbxRNSY](?:'[^']*'|\[[^\]]*\])   # motions, drawing, width
  | [kzm](?:\(..|\[[^\]]*\]|.)        # mark, zero-width char, colour
  | g(?:\(..|\[[^\]]*\]|.)            # register format
  | \*(?:\(..|\[[^\]]*\]|.)           # string
  | \((..)                            # special char \(xx
  | \[([^\]]*)\]                      # special char \[xx]
  | (.)                               # any other
)""", re.X)


def unescape(s):
    def rep(m):
        t = m.group(0)
        if m.group(1) is not None:
            return CHARS.get(m.group(1), "")
        if m.group(2) is not None:
            name = m.group(2)
            if name.startswith("u") and re.fullmatch(r"u[0-9A-Fa-f]{4,6}", name):
                return chr(int(name[1:], 16))
            return CHARS.get(name, "")
        if m.group(3) is not None:
            c = m.group(3)
            if c in "-": return "-"
            if c in "e\\": return "\\"
            if c in " ~0_": return " "
            if c in "&|^,/)c%:!{}dupatE": return ""  # zero-width, line-control, half-line motions
            if c == "'": return "'"
            if c == "`": return "`"
            return c
        if t.startswith("\\*"):
            key = t[2:]
            key = key[1:] if key.startswith("(") else key.strip("[]")
            return STRINGS.get(key, "")
        return ""
    return ESCAPE.sub(rep, s)


def split_args(s):
    """troff argument splitting: whitespace separated, double quotes group ("" = a quote)."""
    args, cur, q, i, had = [], [], False, 0, False
    while i < len(s):
        c = s[i]
        if q:
            if c == '"':
                if i + 1 < len(s) and s[i + 1] == '"':
                    cur.append('"'); i += 1
                else:
                    q = False
            else:
                cur.append(c)
        elif c == '"':
            q, had = True, True
        elif c in " \t":
            if cur or had:
                args.append("".join(cur)); cur, had = [], False
        else:
            cur.append(c)
        i += 1
    if cur or had:
        args.append("".join(cur))
    return args


def mdoc_text(name, args, page_name):
    """The words of an mdoc(7) line: arguments minus macro names; `.Nm` alone is the
    page's name (its first `.Nm` argument), `.Nd` starts with ' - ' as man(7) NAME lines."""
    if name == "Nm" and not args:
        return page_name[0] if page_name else ""
    if name == "Nm" and not page_name:
        page_name.append(args[0])
    out, prev = (["-"] if name == "Nd" else []), name
    i = 0
    while i < len(args):
        a = args[i]
        if a in MDOC:
            prev = a
            i += 1
            continue
        if prev == "Fl":
            out.append("-" + a)
        elif prev == "Xr" and i + 1 < len(args) and re.fullmatch(r"\d\w*", args[i + 1]):
            out.append(f"{a}({args[i + 1]})"); i += 1
        else:
            out.append(a)
        i += 1
    if prev == "Fl" and not any(x not in MDOC for x in args):
        out.append("-")
    return " ".join(out)


def page_to_paragraphs(raw):
    """troff source → [(heading, paragraph text)], or None for a `.so` link page."""
    lines = raw.replace("\r", "").split("\n")
    # Escaped newlines join lines.
    joined, buf = [], ""
    for ln in lines:
        if ln.endswith("\\") and not ln.endswith("\\\\"):
            buf += ln[:-1]
        else:
            joined.append(buf + ln); buf = ""
    if buf:
        joined.append(buf)
    paras, cur, heading, page_name = [], [], "", []
    skip_until_dots, in_table_format, in_table = False, False, False

    def brk():
        if cur:
            text = " ".join(" ".join(cur).split())
            if text:
                paras.append((heading, text))
            cur.clear()

    for ln in joined:
        if skip_until_dots:
            if re.match(r"[.']\s*\.", ln):  # `..`, also written `.  .`
                skip_until_dots = False
            continue
        if in_table_format:
            if ln.rstrip().endswith("."):
                in_table_format = False
            continue
        if ln.startswith(".\\\"") or ln.startswith("'\\\"") or ln.startswith('\\"') or ln.startswith(".\\#"):
            continue
        ln = re.sub(r'\\".*$', "", ln)
        ln = re.sub(r"\\#.*$", "", ln)
        if ln.startswith(".") or ln.startswith("'"):
            body = ln[1:].lstrip()
            m = re.match(r"(\S+)\s*(.*)$", body)
            if not m:
                continue
            name, rest = m.group(1), m.group(2)
            if name == "so":
                if not paras and not cur:
                    return None
                continue
            if name in ("de", "de1", "am", "am1", "ig", "ds1"):
                skip_until_dots = name != "ds1"
                continue
            if name == "TS":
                brk(); in_table_format, in_table = True, True
                continue
            if name == "TE":
                brk(); in_table = False
                continue
            if name in HEADINGS:
                brk()
                heading = " ".join(unescape(" ".join(split_args(rest))).split()).upper()
                continue
            if name in BREAKS:
                brk()
                if name in ("IP",) and rest:
                    args = split_args(rest)
                    if args:
                        cur.append(unescape(args[0]))
                elif name in ("It", "D1", "Dl") and rest:
                    cur.append(unescape(mdoc_text(name, split_args(rest), page_name)))
                continue
            if name in ("B", "I", "SM", "SB", "OP"):  # one font: arguments are words
                cur.append(unescape(" ".join(split_args(rest))))
                continue
            if name in ("BI", "BR", "IB", "IR", "RB", "RI"):  # alternating fonts: arguments abut
                cur.append(unescape("".join(split_args(rest))))
                continue
            if name in MDOC_TEXT:
                cur.append(unescape(mdoc_text(name, split_args(rest), page_name)))
                continue
            continue  # any other request or macro: formatting only
        if in_table:
            ln = ln.replace("\t", " ").replace("T{", " ").replace("T}", " ")
        cur.append(unescape(ln))
    brk()
    return paras


def name_description(paras):
    """The NAME section's description: the text after the first ' - '."""
    text = " ".join(t for h, t in paras if h == "NAME")
    if not text:
        return None
    m = re.search(r"\s[-\u2013\u2014]+\s+(.*)$", text)
    if not m:
        return None
    d = " ".join(m.group(1).split()).lower().rstrip(".")
    return d or None


def pack(paras, lo, hi):
    """Greedy packing of paragraphs into passages of lo..hi words → [(heading, words)]."""
    pieces = []
    for heading, text in paras:
        w = text.split()
        if len(w) > hi:
            n = -(-len(w) // ((lo + hi) // 2))
            size = -(-len(w) // n)
            for s in range(0, len(w), size):
                pieces.append((heading, w[s:s + size]))
        else:
            pieces.append((heading, w))
    out, cur, cur_head = [], [], None
    for heading, w in pieces:
        if cur and len(cur) + len(w) > hi:
            out.append((cur_head, cur)); cur, cur_head = [], None
        if cur_head is None:
            cur_head = heading
        cur = cur + w
        if len(cur) >= lo:
            out.append((cur_head, cur)); cur, cur_head = [], None
    if cur:
        if out and len(out[-1][1]) + len(cur) <= hi * 3 // 2:
            out[-1] = (out[-1][0], out[-1][1] + cur)
        else:
            out.append((cur_head, cur))
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--man-root", default="/usr/share/man")
    p.add_argument("--sections", default="1,2,3,4,5,6,7,8")
    p.add_argument("--min-words", type=int, default=36)
    p.add_argument("--max-words", type=int, default=72)
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    t0 = time.time()
    files = []
    for s in a.sections.split(","):
        d = os.path.join(a.man_root, f"man{s}")
        if os.path.isdir(d):
            files += [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith(".gz")]
    files.sort()
    seen_pages, links, dup_pages, failed = set(), 0, 0, 0
    descriptions = {}  # description → [page(section)]
    n_pass, words_total, chars_total, tokens_total = 0, 0, 0, 0
    pages_used, per_section = 0, Counter()
    pass_words = []
    passage_digests = set()
    duplicate_passages = 0  # passages whose text equals an earlier passage's (gcloud alpha/beta/GA pages)
    token_re = re.compile(r"[^\W_]+")
    with open(os.path.join(a.out, "passages.jsonl"), "w") as out:
        for path in files:
            try:
                with gzip.open(path, "rb") as f:
                    data = f.read()
                raw = data.decode("utf-8") if not data.startswith(b"\x00") else ""
            except UnicodeDecodeError:
                raw = data.decode("latin-1")
            except (OSError, EOFError):
                failed += 1
                continue
            paras = page_to_paragraphs(raw)
            if paras is None:
                links += 1
                continue
            if not paras:
                failed += 1
                continue
            digest = hashlib.sha1("\n".join(t for _, t in paras).encode()).digest()
            if digest in seen_pages:
                dup_pages += 1
                continue
            seen_pages.add(digest)
            base = os.path.basename(path)[:-3]
            section = os.path.basename(os.path.dirname(path))[3:]
            page = base[: -(len(base.rsplit(".", 1)[-1]) + 1)] if "." in base else base
            pages_used += 1
            desc = name_description(paras)
            if desc and 2 <= len(desc.split()) <= 24:
                descriptions.setdefault(desc, []).append(f"{page}({base.rsplit('.', 1)[-1]})")
            for part, (heading, words) in enumerate(pack(paras, a.min_words, a.max_words)):
                text = " ".join(words)
                digest = hashlib.sha1(text.encode()).digest()
                duplicate_passages += digest in passage_digests
                passage_digests.add(digest)
                out.write(json.dumps({"id": n_pass, "page": page, "section": section, "heading": heading,
                                      "part": part, "text": text}, ensure_ascii=False) + "\n")
                n_pass += 1
                per_section[section] += 1
                pass_words.append(len(words))
                words_total += len(words)
                chars_total += len(text)
                tokens_total += len(token_re.findall(text))
    rng = random.Random(a.seed)
    distinct = sorted(descriptions)
    chosen = rng.sample(distinct, min(a.queries, len(distinct)))
    q_words, gcloud = [], 0
    with open(os.path.join(a.out, "queries.jsonl"), "w") as out:
        for i, d in enumerate(chosen):
            pages = descriptions[d]
            gcloud += pages[0].startswith("gcloud")
            q_words.append(len(d.split()))
            out.write(json.dumps({"id": i, "text": d, "pages": pages}, ensure_ascii=False) + "\n")
    pass_words.sort()
    meta = dict(kind="man-pages-bm25", source=a.man_root, sections=a.sections, seed=a.seed,
                min_words=a.min_words, max_words=a.max_words,
                page_files=len(files), pages=pages_used, link_pages_skipped=links, duplicate_pages_skipped=dup_pages,
                unreadable_or_empty_pages=failed,
                gcloud_pages=sum(1 for f in files if os.path.basename(f).startswith("gcloud")),
                passages=n_pass, duplicate_passages=duplicate_passages, passages_per_section=dict(sorted(per_section.items())),
                passage_words_mean=round(words_total / max(n_pass, 1), 2),
                passage_words_p50=pass_words[len(pass_words) // 2] if pass_words else 0,
                passage_words_min=pass_words[0] if pass_words else 0,
                passage_words_max=pass_words[-1] if pass_words else 0,
                passage_tokens_mean=round(tokens_total / max(n_pass, 1), 2),
                passage_chars_mean=round(chars_total / max(n_pass, 1), 1),
                text_mb=round(chars_total / 1e6, 1),
                passages_jsonl_bytes=os.path.getsize(os.path.join(a.out, "passages.jsonl")),
                distinct_descriptions=len(distinct), queries=len(chosen), queries_from_gcloud=gcloud,
                query_words_mean=round(sum(q_words) / max(len(q_words), 1), 2),
                build_s=round(time.time() - t0, 1))
    with open(os.path.join(a.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(json.dumps(meta))


if __name__ == "__main__":
    main()
