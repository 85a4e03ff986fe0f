#!/usr/bin/env python3
"""Compile every public header alone as strict C11 and as C++17.

Each header is included twice (its include guard must hold) into a
one-line translation unit compiled with -pedantic -Wall -Wextra -Werror and
no project arguments (no _GNU_SOURCE): a header that needs something it does
not include itself, uses an extension, or is not C++-clean fails here.

Every header under DIR/booking is checked (a new header is picked up by
itself). Usage: check_headers.py --include DIR --cc 'CC' --cxx 'CXX'
SPDX-License-Identifier: MIT
"""
import argparse
import os
import shlex
import subprocess
import sys
import tempfile

C_FLAGS = ["-std=c11", "-pedantic", "-Wall", "-Wextra", "-Werror", "-Wstrict-prototypes",
           "-Wmissing-prototypes", "-fsyntax-only"]
CXX_FLAGS = ["-std=c++17", "-pedantic", "-Wall", "-Wextra", "-Werror", "-Wold-style-cast", "-fsyntax-only"]


def compile_one(compiler, flags, include, header, suffix, workdir):
    # A use of something from the header after the includes keeps the unit
    # from being empty (an ISO C error under -pedantic).
    text = (f"#include <{header}>\n#include <{header}>\n"
            "typedef int booking_hygiene_unit_is_not_empty;\n")
    path = os.path.join(workdir, header.replace("/", "_") + suffix)
    with open(path, "w") as f:
        f.write(text)
    cmd = compiler + flags + ["-I", include, path]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return r.returncode, " ".join(cmd), r.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--include", required=True)
    ap.add_argument("--cc", required=True)
    ap.add_argument("--cxx", required=True)
    a = ap.parse_args()
    headers = []
    for root, _dirs, files in os.walk(os.path.join(a.include, "booking")):
        for name in files:
            if name.endswith(".h"):
                headers.append(os.path.relpath(os.path.join(root, name), a.include))
    headers.sort()
    if not headers:
        print(f"FAIL no headers under {a.include}/booking")
        return 1
    cc, cxx = shlex.split(a.cc), shlex.split(a.cxx)
    failures = 0
    with tempfile.TemporaryDirectory(prefix="booking-headers-") as tmp:
        for h in headers:
            for lang, comp, flags, suffix in (("C11", cc, C_FLAGS, ".c"), ("C++17", cxx, CXX_FLAGS, ".cpp")):
                rc, cmd, out = compile_one(comp, flags, a.include, h, suffix, tmp)
                if rc != 0:
                    failures += 1
                    print(f"FAIL {h} as {lang}: {cmd}\n{out}")
                else:
                    print(f"ok   {h} as {lang}")
    print(f"{len(headers) * 2 - failures} header compilations passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
