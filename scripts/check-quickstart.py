#!/usr/bin/env python3
"""Checks that README.md's quick start is examples/quickstart.cc verbatim (the file CI builds and runs in the
package stage), so the README's code always compiles and works. Exit 1 with a diff otherwise."""
import difflib
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
example = open(os.path.join(ROOT, "examples", "quickstart.cc"), encoding="utf-8").read()
m = re.search(r"<!-- quickstart: examples/quickstart.cc -->\n```cpp\n(.*?)```\n", readme, re.S)
if not m:
    sys.exit("README.md has no quick start block (<!-- quickstart: examples/quickstart.cc --> then ```cpp)")
if m.group(1) != example:
    sys.stdout.writelines(difflib.unified_diff(m.group(1).splitlines(True), example.splitlines(True),
                                               "README.md quick start", "examples/quickstart.cc"))
    sys.exit("README.md's quick start differs from examples/quickstart.cc")
print("README.md's quick start is examples/quickstart.cc")
