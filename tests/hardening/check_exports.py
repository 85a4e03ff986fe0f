#!/usr/bin/env python3
"""The library exports only booking_* symbols.

Lists the dynamic symbols libbooking.so defines (nm -D --defined-only) and
fails on any name that is not booking_* (public API) - in particular the
core's booking__* internals and the backends' helpers must stay hidden.
The linker's own _init/_fini/_edata/_end/__bss_start are allowed.

Usage: check_exports.py path/to/libbooking.so
SPDX-License-Identifier: MIT
"""
import re
import subprocess
import sys

ALLOWED = {"_init", "_fini", "_edata", "_end", "__bss_start"}


def main():
    lib = sys.argv[1]
    if not re.search(r"\.so(\.|$)", lib):
        print(f"{lib}: not a shared library (default_library=static?); nothing is exported")
        return 0
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True, stdout=subprocess.PIPE,
                         text=True).stdout
    names = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            names.append(parts[2].split("@")[0])
    public = [n for n in names if n.startswith("booking_") and not n.startswith("booking__")]
    bad = sorted(n for n in names if n not in ALLOWED and n not in public)
    print(f"{lib}: {len(public)} booking_* symbols exported")
    for n in bad:
        print(f"FAIL exported symbol outside the API: {n}")
    if not public:
        print("FAIL no booking_* symbol exported at all")
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
