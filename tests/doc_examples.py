#!/usr/bin/env python3
"""Every public item of the library carries an example that runs as a doctest.

Walks the library's public API as rustdoc sees it (its JSON output: the
stable toolchain with RUSTC_BOOTSTRAP=1, as cargo semver-checks does) from
the crate root, following re-exports, and lists each public item whose docs
hold no runnable Rust code block (a fence with no info string, or `rust`,
without `ignore`, `no_run`, `compile_fail` or `text`).

Which items need one follows rustdoc's own `missing_doc_code_examples` lint:
modules, structs, enums, unions, traits, free functions and inherent
methods. Fields, variants, constants, statics and type aliases are exempt
(they are documented, `#![deny(missing_docs)]`, but a constant's example is
its module's). The lint itself is not used: it skips items re-exported from
private modules, which is most of this API.

Usage: tests/doc_examples.py [rustdoc.json]   (exit 1 listing the items)
"""

import json
import os
import re
import subprocess
import sys

NEEDS = {"module", "struct", "enum", "union", "trait", "function"}
FENCE = re.compile(r"^[ \t]*(```+|~~~+)[ \t]*([^\n]*)$", re.M)
# Info strings of a block rustdoc compiles and runs; any other word (ignore,
# no_run, compile_fail, text, yaml...) means it does not.
RUNS = {"rust", "should_panic", "edition2018", "edition2021", "edition2024"}


def runnable_example(docs):
    """True when docs hold a fenced block rustdoc runs as a test."""
    opening = True
    for m in FENCE.finditer(docs or ""):
        if opening:
            info = {t for t in re.split(r"[,\s]+", m.group(2)) if t}
            if info <= RUNS:
                return True
        opening = not opening
    return False


def build_json(root):
    env = dict(os.environ, RUSTC_BOOTSTRAP="1", RUSTDOCFLAGS="-Z unstable-options --output-format json")
    # A target directory of its own: RUSTC_BOOTSTRAP changes the build's
    # fingerprint, and sharing target/ would rebuild every dependency for
    # the next cargo test or clippy.
    target = os.path.join(root, "target", "doc-examples")
    subprocess.run(
        ["cargo", "doc", "--quiet", "--no-deps", "--locked", "-p", "registry-gen", "--features", "k8s-openapi/v1_33", "--target-dir", target],
        cwd=root,
        env=env,
        check=True,
    )
    return os.path.join(target, "doc", "registry_gen.json")


def public_items(doc):
    """(kind, path, docs) of every item reachable from the crate root."""
    index = doc["index"]
    seen, out = set(), []

    def kind(item):
        return next(iter(item["inner"]))

    def walk(item_id, prefix):
        key = str(item_id)
        if key in seen or key not in index:
            return  # visited, or from another crate
        seen.add(key)
        item = index[key]
        k = kind(item)
        inner = item["inner"][k]
        if k == "use":
            if inner.get("id") is not None:
                walk(inner["id"], prefix)
            return
        path = prefix + [item.get("name") or "?"]
        out.append((k, "::".join(path), item.get("docs")))
        if k == "module":
            for child in inner["items"]:
                walk(child, path)
        elif k in ("struct", "enum", "union"):
            for impl_id in inner.get("impls", []):
                imp = index[str(impl_id)]["inner"]["impl"]
                if imp.get("trait") is None and not imp.get("is_synthetic") and imp.get("blanket_impl") is None:
                    for m in imp["items"]:
                        method = index[str(m)]
                        if method.get("visibility") == "public" and kind(method) == "function":
                            out.append(("method", "::".join(path + [method["name"]]), method.get("docs")))

    walk(doc["root"], [])
    return out


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = sys.argv[1] if len(sys.argv) > 1 else build_json(root)
    with open(path) as f:
        doc = json.load(f)
    items = public_items(doc)
    needing = [(k, p, d) for k, p, d in items if k in NEEDS or k == "method"]
    # The hidden bench module is not API.
    needing = [(k, p, d) for k, p, d in needing if "::bench" not in p]
    missing = [(k, p) for k, p, d in needing if not runnable_example(d)]
    for k, p in missing:
        print(f"no runnable example: {k} {p}")
    print(f"doc examples: {len(needing) - len(missing)} of {len(needing)} public items have one")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
