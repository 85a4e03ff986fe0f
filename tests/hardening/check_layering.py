#!/usr/bin/env python3
"""src/ includes nothing from backends/ and builds no backend URL (issue 11:
the core names no backend).

Fails on
- any #include in src/ that names a header living under backends/ (by
  path or by bare name, since backends/ is on the include path) or a path
  through backends/. The built-ins reach the core only through
  booking_backend_register() (doc/backends.md);
- any string literal in src/ that starts with a built-in backend's scheme
  (the schemes backends/builtin.c registers) and its ':', except the
  default URLs "memory:" and "simulated:";
- any string literal in src/ that writes a URL query parameter ("?key=",
  "&key=", "?%s", "%c%s=" and the like). A backend's settings are its
  URL's parameters, which it reads itself (sys/url.h).
The behaviour itself is tested in tests/test_registry.c
(the_core_hands_every_url_on_as_given); this is the grep that goes with it.

Usage: check_layering.py SOURCE_ROOT
SPDX-License-Identifier: MIT
"""
import pathlib
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)
COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)
STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
SCHEME = re.compile(r'\.scheme\s*=\s*"([a-z][a-z0-9+.-]*)"')
QUERY = re.compile(r'[?&](?:[A-Za-z_]+=|%)|%c%s=')
DEFAULT_URLS = {"memory:", "simulated:"}


def main():
    root = pathlib.Path(sys.argv[1])
    backend_headers = {p.name for p in (root / "backends").rglob("*.h")}
    schemes = set(SCHEME.findall((root / "backends" / "builtin.c").read_text(encoding="utf-8")))
    bad = []
    for src in sorted((root / "src").rglob("*.[ch]")):
        text = src.read_text(encoding="utf-8")
        rel = src.relative_to(root)
        for name in INCLUDE.findall(text):
            if "backends/" in name or pathlib.PurePath(name).name in backend_headers:
                bad.append(f"{rel}: #include {name}")
        code = COMMENT.sub(" ", text)
        for lit in STRING.findall(code):
            if lit not in DEFAULT_URLS and any(lit.startswith(s + ":") for s in schemes):
                bad.append(f'{rel}: a backend URL "{lit}"')
            if QUERY.search(lit):
                bad.append(f'{rel}: a URL parameter written "{lit}"')
    for b in bad:
        print(f"FAIL {b}")
    print(f"{len(backend_headers)} backend headers, {len(schemes)} built-in schemes; "
          f"{len(bad)} includes, URLs or URL parameters in src/")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
