"""Judges a conformance report: only the cases listed as known gaps may fail.

Prints a one-line verdict; exits 1 on an unexpected failure, 0 otherwise.
"""
import json
import sys


def main(report_path: str, gaps_path: str) -> int:
    with open(report_path, encoding="utf-8") as f:
        report = json.load(f)
    results = report.get("results", report) if isinstance(report, dict) else report
    gaps = {}
    with open(gaps_path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                case_id, _, reason = line.partition(" ")
                gaps[case_id] = reason.strip()
    outcome = {}
    for r in results:
        outcome[r.get("id")] = (r.get("status") or r.get("result") or "").upper()
    failed = sorted(i for i, s in outcome.items() if s.startswith("FAIL"))
    passed = sorted(i for i, s in outcome.items() if s.startswith("PASS"))
    unexpected = [i for i in failed if i not in gaps]
    fixed = [i for i in gaps if i in passed]
    print(f"conformance verdict: {len(passed)} of {len(outcome)} cases pass; known gaps failing: {', '.join(i for i in failed if i in gaps) or 'none'}")
    if fixed:
        print(f"conformance note: known gaps now passing (remove them from the list): {', '.join(fixed)}")
    if unexpected:
        print(f"conformance verdict: UNEXPECTED failures: {', '.join(unexpected)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
