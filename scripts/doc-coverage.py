#!/usr/bin/env python3
"""Check that every exported function and public type of the headers is documented.

    scripts/doc-coverage.py [INCLUDE_DIR]        (default: include/booking)

Reads every header under INCLUDE_DIR (sys/ included) and prints one line per
gap, `header:line: name: missing ...`, then a summary; exits 1 when there is
a gap. Standard library only. The rules (issue 12, "Document every function"):

Functions (`BOOKING_EXTERN(type) name(params);`):
  - a `/** ... */` comment directly above (no blank line between). A tight
    group of declarations (no blank line between them) may share the comment
    of its first one, but only when the comment names every function of the
    group;
  - every parameter named in it: `@param name`, or the name in backticks;
  - every pointer parameter (arrays too) given its ownership: the text about
    the parameter (its @param block, or a sentence naming it in backticks)
    says borrowed / caller owns / frees with X / takes ownership / copied /
    may be NULL / valid until / outlive / static ... Input pointers may
    instead be covered by one sentence of the comment saying that the
    arguments (parameters, pointers, strings) are borrowed;
  - every output parameter (`out`, `*_out`) of a function that can fail
    (one that returns booking_error_code or int) says what it holds after a
    failure: a sentence about it naming a failure ("fail", "error") and a
    state (NULL, untouched, unchanged, 0, not written), or "on success only";
  - a function returning booking_error_code: an `@return` that names 0 and
    the specific BOOKING_E* codes (a generic "store errors" may follow, not
    replace them); every code named must exist in errors.h;
  - a function returning int: an `@return` saying what the number is;
  - a function returning a pointer: ownership of the result (static,
    borrowed, caller owns, free with X, valid until ...);
  - a thread-safety statement: a sentence with "thread" in it
    ("Thread-safe.", "Not thread-safe: ...", "Thread-local.").

Types (public typedefs of structs, enums and function pointers, and struct
definitions of the backend API):
  - a `/** ... */` comment directly above; an opaque `typedef struct X X;`
    is documented by the doc comment of `struct X {` when the struct is
    defined in another header;
  - a function-pointer type: each parameter named and a thread statement
    (which thread calls it), as for a function.

Every header: no citation of a document that does not ship (`guide`,
`DESIGN.md`, a `.md` outside doc/, a doc/NAME.md that does not exist),
reported as `header:line: comment: cites ...`.

A call that always fails (booking_error_oom()) says "always" in its @return
instead of naming 0.
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

OWNERSHIP = re.compile(
    r"borrow|caller owns|caller frees|\bowns?\b|\bowned\b|ownership|"
    r"\bfree[sd]?\b[^.;]*\bwith\b|booking_\w*free\(\)|booking_close\(\)|"
    r"\bmay be NULL|\bcan be NULL|must not be NULL|never NULL|\bNULL(:| is | for | means | gives | to )|"
    r"outlives?\b|valid (until|while|for)|lifetime|\bcopied\b|\bcopies\b|\bstatic\b|"
    r"for the (duration of the )?call|during the call|caller'?s? (buffer|array|struct|int|size_t|variable|ctx)|"
    r"written (in|into)|filled",
    re.I)
BLANKET_BORROWED = re.compile(
    r"(arguments?|parameters?|pointers?|strings?|inputs?)\b[^.]*\bborrowed|borrowed[^.]*\b(arguments?|parameters?|pointers?|inputs?)\b",
    re.I)
FAILURE_WORD = re.compile(r"fail|error", re.I)
FAILURE_STATE = re.compile(r"\bNULL\b|untouched|unchanged|not written|left as|\b0\b|anonymous|not set|cleared", re.I)
SUCCESS_ONLY = re.compile(r"(on|after) success only|only on success|only (when|if) it (returns|succeeds)", re.I)
THREAD = re.compile(r"thread", re.I)
ERROR_CODE = re.compile(r"\bBOOKING_E[A-Z_]+\b")
DOC_CITATION = re.compile(r"[\w./-]*\.md\b")
OUT_NAME = re.compile(r"^(out|\w+_out)$")


def strip_comments(text):
    """Return (code, comments): code with comments blanked (newlines kept), and
    the comments as (start, end, text)."""
    comments = []
    out = []
    i, n = 0, len(text)
    while i < n:
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            comments.append((i, j, text[i:j]))
            out.append("".join(c if c == "\n" else " " for c in text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            comments.append((i, j, text[i:j]))
            out.append(" " * (j - i))
            i = j
        elif text[i] == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out), comments


def blank_preprocessor(code):
    lines = code.split("\n")
    res, cont = [], False
    for line in lines:
        if cont or line.lstrip().startswith("#"):
            cont = line.rstrip().endswith("\\")
            res.append(" " * len(line))
        else:
            res.append(line)
    return "\n".join(res)


def statement_end(code, i):
    """Offset just past the ';' ending the statement at i (braces and parentheses balanced)."""
    depth = 0
    while i < len(code):
        c = code[i]
        if c in "({[":
            depth += 1
        elif c in ")}]":
            depth -= 1
        elif c == ";" and depth == 0:
            return i + 1
        i += 1
    return i


def split_params(text):
    parts, depth, cur = [], 0, []
    for c in text:
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        if c == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
    if "".join(cur).strip():
        parts.append("".join(cur).strip())
    return parts


def param_info(p):
    """(name, is_pointer) of one parameter declaration; name None for `...` and `void`."""
    p = " ".join(p.split())
    if p in ("...", "void", ""):
        return None, False
    m = re.search(r"\(\s*\*\s*(\w+)\s*\)", p)
    if m:  # function pointer
        return m.group(1), False
    m = re.search(r"(\w+)\s*(\[[^\]]*\])?\s*$", p)
    name = m.group(1)
    return name, ("*" in p or "[" in p)


def first_paren_group(s, i):
    """(inside, end) of the parenthesised group starting at s[i] == '('."""
    depth = 0
    for j in range(i, len(s)):
        if s[j] == "(":
            depth += 1
        elif s[j] == ")":
            depth -= 1
            if depth == 0:
                return s[i + 1:j], j + 1
    return s[i + 1:], len(s)


def comment_body(text):
    body = text[3:-2] if text.startswith("/**") else text
    lines = []
    for line in body.split("\n"):
        lines.append(re.sub(r"^\s*\*( |$)", "", line))
    return "\n".join(lines)


def flat(s):
    return " ".join(s.split())


def sentences(s):
    return [x for x in re.split(r"(?<=[.;:])\s+(?=[A-Z`*(@])|\n\s*\n", s) if x.strip()]


class Doc:
    def __init__(self, text):
        self.raw = comment_body(text)
        self.text = flat(self.raw)
        parts = re.split(r"(?=@(?:param|return|returns)\b)", self.text)
        self.main = parts[0]
        self.params = {}
        self.ret = ""
        for part in parts[1:]:
            m = re.match(r"@param\s+(\w+)\s*(.*)", part)
            if m:
                self.params[m.group(1)] = self.params.get(m.group(1), "") + " " + m.group(2)
            elif part.startswith("@return"):
                self.ret += " " + re.sub(r"^@returns?", "", part)

    def about(self, name):
        """Text about parameter `name`: its @param block and the sentences naming it."""
        bits = [self.params.get(name, "")]
        pat = re.compile(r"`\*?" + re.escape(name) + r"\b[^`]*`|\*" + re.escape(name) + r"\b")
        for s in sentences(self.text):
            if pat.search(s):
                bits.append(s)
        return " ".join(bits)

    def names(self, name):
        return name in self.params or re.search(r"`[^`]*\b" + re.escape(name) + r"\b[^`]*`", self.text) is not None


class Checker:
    def __init__(self, incdir):
        self.incdir = incdir
        self.gaps = []
        self.functions = 0
        self.types = 0
        self.codes = set()
        self.struct_docs = {}  # struct tag -> documented?
        self.headers = []
        for dirpath, _, files in os.walk(incdir):
            for f in sorted(files):
                if f.endswith(".h"):
                    self.headers.append(os.path.join(dirpath, f))
        self.headers.sort()

    def gap(self, path, line, name, what, kind="missing"):
        rel = os.path.relpath(path, ROOT) if path.startswith(ROOT) else path
        self.gaps.append(f"{rel}:{line}: {name}: {kind} {what}")

    def load(self, path):
        text = open(path, encoding="utf-8").read()
        code, comments = strip_comments(text)
        code = blank_preprocessor(code)
        return text, code, comments

    def doc_above(self, text, comments, start):
        """The /** */ comment that ends on the line just above `start` (or on its line)."""
        for cs, ce, ct in reversed(comments):
            if ce > start:
                continue
            # Only the comment's own line end and `#define X_VERSION n` lines
            # (a versioned table's constant) may stand between; no blank line.
            between = text[ce:start]
            rest = [ln for ln in between.split("\n")[1:-1]]
            tight = "\n\n" not in between.replace(" ", "").replace("\t", "")
            if (tight and between.split("\n")[0].strip() == "" and all(ln.lstrip().startswith("#define") for ln in rest)
                    and between.split("\n")[-1].strip() == "" and ct.startswith("/**") and not ct.startswith("/**<")):
                return ct
            return None
        return None

    def line_of(self, text, off):
        return text.count("\n", 0, off) + 1

    def collect_codes(self):
        for path in self.headers:
            if os.path.basename(path) == "errors.h":
                self.codes |= set(re.findall(r"\b(BOOKING_E[A-Z_]+)\s*=", open(path).read()))
        for path in self.headers:
            text, code, comments = self.load(path)
            for m in re.finditer(r"^struct\s+(\w+)\s*\{", code, re.M):
                self.struct_docs[m.group(1)] = self.doc_above(text, comments, m.start()) is not None

    def run(self):
        self.collect_codes()
        for path in self.headers:
            self.check_header(path)

    def check_citations(self, path, comments, text):
        for cs, _, ct in comments:
            line = self.line_of(text, cs)
            body = flat(comment_body(ct))
            if re.search(r"\bguide\b", body, re.I):
                self.gap(path, line, "comment", "the guide, which does not ship (cite doc/NAME.md)", "cites")
            for m in DOC_CITATION.finditer(body):
                cited = m.group(0)
                if "NAME" in cited or cited.startswith("share/doc/libbooking/"):
                    continue  # the rule itself (doc/NAME.md), or where doc/ installs
                if not cited.startswith("doc/"):
                    self.gap(path, line, "comment", f"{cited}, outside doc/", "cites")
                elif not os.path.exists(os.path.join(ROOT, cited)):
                    self.gap(path, line, "comment", f"{cited}, which does not exist", "cites")

    def check_header(self, path):
        text, code, comments = self.load(path)
        self.check_citations(path, comments, text)
        self.check_functions(path, text, code, comments)
        self.check_types(path, text, code, comments)

    # --- functions ------------------------------------------------------------
    def check_functions(self, path, text, code, comments):
        decls = []
        for m in re.finditer(r"\bBOOKING_EXTERN\s*\(", code):
            if re.match(r"\s*#\s*define", code[code.rfind("\n", 0, m.start()) + 1:m.start()]):
                continue
            end = statement_end(code, m.start())
            stmt = code[m.start():end]
            rtype, after = first_paren_group(stmt, stmt.index("("))
            nm = re.match(r"\s*(\w+)\s*\(", stmt[after:])
            if not nm:
                continue
            params, _ = first_paren_group(stmt, after + stmt[after:].index("("))
            decls.append({
                "name": nm.group(1), "rtype": " ".join(rtype.split()), "params": split_params(params),
                "start": m.start(), "end": end,
                "line": self.line_of(text, m.start()), "endline": self.line_of(text, end),
            })
        # Shared comments: a tight group (no blank line) inherits its first member's comment.
        prev = None
        for d in decls:
            own = self.doc_above(text, comments, d["start"])
            if own is not None:
                d["doc"], d["group"] = own, [d]
            elif prev is not None and prev.get("doc") and d["line"] == prev["endline"] + 1:
                d["doc"], d["group"] = prev["doc"], prev["group"]
                prev["group"].append(d)
            else:
                d["doc"], d["group"] = None, [d]
            prev = d
        for d in decls:
            self.functions += 1
            self.check_function(path, d)

    def check_function(self, path, d):
        name, line = d["name"], d["line"]
        if d["doc"] is None:
            self.gap(path, line, name, "doc comment (/** ... */ directly above)")
            return
        doc = Doc(d["doc"])
        if len(d["group"]) > 1 and not re.search(r"\b" + re.escape(name) + r"\b", doc.text):
            self.gap(path, line, name, "its name in the comment it shares with "
                     + ", ".join(g["name"] for g in d["group"] if g is not d))
        rtype = d["rtype"]
        can_fail = rtype in ("booking_error_code", "int")
        blanket = any(BLANKET_BORROWED.search(s) for s in sentences(doc.text))
        for p in d["params"]:
            pname, is_ptr = param_info(p)
            if pname is None:
                continue
            if not doc.names(pname):
                self.gap(path, line, name, f"parameter `{pname}` (@param {pname}, or `{pname}` in the text)")
                continue
            about = doc.about(pname)
            is_out = OUT_NAME.match(pname) and is_ptr and not p.lstrip().startswith("const ")
            if is_ptr and not OWNERSHIP.search(about) and not (blanket and not is_out):
                self.gap(path, line, name, f"ownership of `{pname}` (borrowed / caller owns / free with X / may be NULL / lifetime)")
            if is_out and can_fail:
                ok = SUCCESS_ONLY.search(about) or any(
                    FAILURE_WORD.search(s) and FAILURE_STATE.search(s) for s in sentences(about) + [about])
                if not ok:
                    self.gap(path, line, name, f"what `*{pname}` holds after a failure (NULL / untouched)")
        if rtype == "booking_error_code":
            if not doc.ret.strip():
                self.gap(path, line, name, "@return naming 0 and the BOOKING_E* codes it returns")
            else:
                if not re.search(r"(^|[^\w.-])0\b", doc.ret) and not re.search(r"\balways\b", doc.ret):
                    self.gap(path, line, name, "0 (success) in @return")
                if not ERROR_CODE.search(doc.ret):
                    self.gap(path, line, name, "the specific BOOKING_E* codes in @return")
        elif rtype == "int" and not doc.ret.strip():
            self.gap(path, line, name, "@return saying what the number means")
        for code in ERROR_CODE.findall(doc.ret):
            if code not in self.codes and not code.startswith("BOOKING_ENV"):
                self.gap(path, line, name, f"{code}, which is no booking_error_code", "cites")
        if "*" in rtype and not OWNERSHIP.search(doc.main + " " + doc.ret):
            self.gap(path, line, name, "ownership of the returned pointer (static / borrowed / caller owns, free with X)")
        if not THREAD.search(doc.text):
            self.gap(path, line, name, "thread-safety statement (Thread-safe / Not thread-safe / ... thread ...)")

    # --- types ----------------------------------------------------------------
    def check_types(self, path, text, code, comments):
        depth = 0
        i = 0
        typedef_re = re.compile(r"\btypedef\b|^struct\s+(\w+)\s*\{", re.M)
        pos = 0
        while True:
            m = typedef_re.search(code, pos)
            if not m:
                break
            # only at file scope: count braces before m
            depth = code.count("{", 0, m.start()) - code.count("}", 0, m.start())
            end = statement_end(code, m.start())
            pos = end
            if depth != 0:
                continue
            stmt = code[m.start():end]
            line = self.line_of(text, m.start())
            if m.group(0).startswith("struct"):
                name, kind = "struct " + m.group(1), "struct"
            else:
                body = re.sub(r"\{.*\}", "{}", " ".join(stmt.split()), flags=re.S)
                fp = re.search(r"\(\s*\*\s*(\w+)\s*\)\s*\(", body)
                if fp:
                    name, kind = fp.group(1), "fnptr"
                else:
                    name = re.search(r"(\w+)\s*;\s*$", body).group(1)
                    kind = "opaque" if "{" not in body and body.startswith("typedef struct") else "type"
            self.types += 1
            doc = self.doc_above(text, comments, m.start())
            if doc is None:
                tag = re.match(r"typedef\s+struct\s+(\w+)\s+\w+\s*;", " ".join(stmt.split()))
                if kind == "opaque" and tag and self.struct_docs.get(tag.group(1)):
                    continue
                self.gap(path, line, name, "doc comment (/** ... */ directly above)")
                continue
            if kind == "fnptr":
                d = Doc(doc)
                inner, _ = first_paren_group(stmt, stmt.index("(", stmt.index(name) + len(name)))
                for p in split_params(inner):
                    pname, _ = param_info(p)
                    if pname and not d.names(pname):
                        self.gap(path, line, name, f"parameter `{pname}` (@param {pname}, or `{pname}` in the text)")
                if not THREAD.search(d.text):
                    self.gap(path, line, name, "thread statement (which thread calls it, at once with what)")


def main():
    incdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "include", "booking")
    c = Checker(os.path.abspath(incdir))
    c.run()
    for g in c.gaps:
        print(g)
    print(f"doc-coverage: {c.functions} functions and {c.types} types in {len(c.headers)} headers, "
          f"{len(c.gaps)} gaps")
    return 1 if c.gaps else 0


if __name__ == "__main__":
    sys.exit(main())
