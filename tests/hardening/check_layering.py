#!/usr/bin/env python3
"""src/ includes nothing from backends/ (issue 11: the core names no backend).

Fails on any #include in src/ that names a header living under backends/
(by path or by bare name, since backends/ is on the include path) or a
path through backends/. The built-ins reach the core only through
booking_backend_register() (doc/backends.md).

Usage: check_layering.py SOURCE_ROOT
SPDX-License-Identifier: MIT
"""
import pathlib
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)


def main():
    root = pathlib.Path(sys.argv[1])
    backend_headers = {p.name for p in (root / "backends").rglob("*.h")}
    bad = []
    for src in sorted((root / "src").rglob("*.[ch]")):
        for name in INCLUDE.findall(src.read_text(encoding="utf-8")):
            if "backends/" in name or pathlib.PurePath(name).name in backend_headers:
                bad.append(f"{src.relative_to(root)}: #include {name}")
    for b in bad:
        print(f"FAIL {b}")
    print(f"{len(backend_headers)} backend headers; {len(bad)} included from src/")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
