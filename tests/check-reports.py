#!/usr/bin/python3
"""Validates every alloter report under the given folders against
docs/report.schema.json: the *.json files whose top level has "tasks" and
"run".  Prints each violation as "FILE: PATH: MESSAGE" and exits 1 if there
was one.  --cache FILE skips reports already checked unchanged (path, size,
mtime), so a suite-wide folder is not checked again after every test."""
import json
import os
import sys

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = os.path.join(HERE, "..", "docs", "report.schema.json")


def reports(folders):
    for top in folders:
        for root, _, files in os.walk(top):
            for name in files:
                if name.endswith(".json"):
                    yield os.path.join(root, name)


def main(argv):
    cache_path = None
    if len(argv) > 2 and argv[1] == "--cache":
        cache_path, argv = argv[2], argv[2:]
    with open(SCHEMA, encoding="utf-8") as f:
        validator = jsonschema.Draft202012Validator(json.load(f))
    seen = set()
    if cache_path and os.path.exists(cache_path):
        with open(cache_path, encoding="utf-8") as f:
            seen = set(f.read().splitlines())
    bad = 0
    checked = []
    for path in reports(argv[1:]):
        try:
            st = os.stat(path)
            key = "%s %d %d" % (path, st.st_size, st.st_mtime_ns)
            if key in seen:
                continue
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            continue  # gone: nothing to check
        try:
            doc = json.loads(data.decode("utf-8"))
        except ValueError as e:
            # alloter's reports begin so; other JSON files are not ours.
            if data.startswith((b'{\n"format"', b'{\n"tasks"')):
                print("%s: not valid JSON: %s" % (path, e))
                bad += 1
            continue
        if not (isinstance(doc, dict) and "tasks" in doc and "run" in doc):
            continue
        errors = list(validator.iter_errors(doc))
        for e in errors:
            where = "/".join(str(p) for p in e.absolute_path) or "(top)"
            print("%s: %s: %s" % (path, where, e.message))
        bad += bool(errors)
        if not errors:
            checked.append(key)
    if cache_path and checked:
        with open(cache_path, "a", encoding="utf-8") as f:
            f.write("".join(k + "\n" for k in checked))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
