#!/usr/bin/env python3
"""Print each failed test of a .trx file with its message and the top of its stack trace.

build.sh calls this after the summary counters so that a CI log, which is often shown only by its tail, names the
test that failed and why (the console logger prints the failure far above, among thousands of lines)."""
import sys
import xml.etree.ElementTree as ET

NS = "{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}"
MESSAGE_LINES = 12
STACK_LINES = 6
MAX_TESTS = 30


def clip(text, lines):
    rows = (text or "").strip().splitlines()
    return rows[:lines] + ([f"... ({len(rows) - lines} more lines)"] if len(rows) > lines else [])


def main(path):
    root = ET.parse(path).getroot()
    failed = [r for r in root.iter(NS + "UnitTestResult") if r.get("outcome") in ("Failed", "Error", "Timeout", "Aborted")]
    for result in failed[:MAX_TESTS]:
        print(f"  - {result.get('testName')} ({result.get('outcome')}, {result.get('duration')})")
        info = result.find(f"{NS}Output/{NS}ErrorInfo")
        if info is None:
            continue
        for line in clip(info.findtext(NS + "Message"), MESSAGE_LINES):
            print(f"      {line}")
        for line in clip(info.findtext(NS + "StackTrace"), STACK_LINES):
            print(f"      {line}")
    if len(failed) > MAX_TESTS:
        print(f"  ... and {len(failed) - MAX_TESTS} more (the .trx file has them all)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
