#!/usr/bin/env python3
"""Validates report.json files against bench/report.schema.json (JSON Schema
2020-12, python3-jsonschema). Usage: validate_report_schema.py SCHEMA REPORT...
Exit 0 all valid, 1 a report does not match (every violation is printed with
its JSON path), 2 usage error or the schema itself is invalid."""
import json
import sys

try:
    import jsonschema
except ImportError:
    print("validate_report_schema.py: python3-jsonschema is not installed (scripts/bootstrap.sh installs it)",
          file=sys.stderr)
    sys.exit(2)


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as e:
        print(f"{argv[1]}: not a valid JSON Schema: {e.message}", file=sys.stderr)
        return 2
    validator = jsonschema.Draft202012Validator(schema)
    failed = False
    for path in argv[2:]:
        with open(path, encoding="utf-8") as f:
            report = json.load(f)
        for error in sorted(validator.iter_errors(report), key=lambda e: list(e.absolute_path)):
            failed = True
            where = "/".join(str(p) for p in error.absolute_path) or "(top)"
            print(f"{path}: {where}: {error.message}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
