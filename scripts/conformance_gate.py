"""Judges a conformance report: every case of the suite ran, and only the known gaps failed, each
the way its line in the known-gaps file records.

  conformance_gate.py REPORT GAPS --cases CASES.json [--only ID,ID]

Fails (exit 1, one line per reason) on: a missing, unreadable or empty report; a report that does
not hold every case of CASES.json exactly once (or of the `--only` selection: shell-style globs,
as run.py takes them); a status other than pass or fail (skip included); a summary that does not
add up; a failure not in GAPS; a known gap that fails with another HTTP status or error code than
its line records, with a 5xx, or without a response at all; a known gap that is no case of the
suite. Known gaps that now pass are printed
as a note. GAPS lines: `ID  STATUS  CODE  reason`, CODE `-` when the body carries none.

Must not run cases or talk to the server; it only reads the two files.
"""
import fnmatch
import json
import sys

USAGE = "usage: conformance_gate.py REPORT GAPS --cases CASES.json [--only ID,ID]"


class GateError(Exception):
    """A reason the gate cannot pass."""


def read_gaps(path):
    """`{id: (status, code_or_None, reason)}` from the known-gaps file."""
    gaps = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            fields = line.split(None, 3)
            if len(fields) < 4 or not fields[1].isdigit():
                raise GateError(f"{path}:{number}: expected `ID STATUS CODE reason`, got {line!r}")
            case_id, status, code, reason = fields
            if int(status) >= 500:
                raise GateError(f"{path}:{number}: {case_id}: a {status} is never a known gap")
            if case_id in gaps:
                raise GateError(f"{path}:{number}: {case_id} listed twice")
            gaps[case_id] = (int(status), None if code == "-" else code, reason)
    return gaps


def suite_ids(cases_path, only):
    """The ids the report must hold: every case of the suite, or those `only` selects."""
    with open(cases_path, encoding="utf-8") as f:
        data = json.load(f)
    cases = data.get("cases") if isinstance(data, dict) else data
    if not isinstance(cases, list) or not cases:
        raise GateError(f"{cases_path}: no cases")
    ids = [str(c.get("id")) for c in cases if isinstance(c, dict)]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise GateError(f"{cases_path}: duplicate case ids: {', '.join(duplicates)}")
    selected = ids
    if only:
        patterns = [p.strip() for p in only.split(",") if p.strip()]
        selected = [i for i in ids if any(fnmatch.fnmatchcase(i, p) for p in patterns)]
    return ids, selected


def read_results(report_path):
    try:
        with open(report_path, encoding="utf-8") as f:
            report = json.load(f)
    except (OSError, ValueError) as exc:
        raise GateError(f"no readable report at {report_path}: {exc}") from exc
    results = report.get("results") if isinstance(report, dict) else report
    if not isinstance(results, list) or not results:
        raise GateError(f"{report_path}: the report holds no results")
    summary = report.get("summary") if isinstance(report, dict) else None
    return results, summary


def last_response(result):
    """(status, code) of the last step's response; (None, None) when there was none."""
    steps = result.get("steps") or []
    response = (steps[-1] if steps else {}).get("response")
    if not isinstance(response, dict) or not isinstance(response.get("status"), int):
        return None, None
    code = None
    try:
        body = json.loads(response.get("body") or "")
        if isinstance(body, dict) and body.get("code") is not None:
            code = str(body.get("code"))
    except ValueError:
        pass
    return response["status"], code


def judge(results, summary, expected_ids, gaps):
    """(problems, notes, passed, failed_gaps): the gate passes when `problems` is empty."""
    problems = []
    statuses = {}
    for r in results:
        case_id = str(r.get("id")) if isinstance(r, dict) and r.get("id") is not None else None
        if case_id is None:
            problems.append(f"a result without an id: {r!r}")
            continue
        if case_id in statuses:
            problems.append(f"{case_id}: reported more than once")
            continue
        status = str(r.get("result") or r.get("status") or "").lower()
        statuses[case_id] = (status, r)
        if status not in ("pass", "fail"):
            problems.append(f"{case_id}: status {status or 'missing'!r} (only pass or fail count)")
    missing = [i for i in expected_ids if i not in statuses]
    extra = sorted(i for i in statuses if i not in expected_ids)
    if missing:
        problems.append(f"{len(missing)} of {len(expected_ids)} cases not in the report: {', '.join(missing)}")
    if extra:
        problems.append(f"cases not in the suite: {', '.join(extra)}")
    if isinstance(summary, dict):
        counted = sum(v for v in summary.values() if isinstance(v, int))
        if counted != len(results) or summary.get("skipped"):
            problems.append(f"summary {summary} does not match {len(results)} pass/fail results")
    passed, failed_gaps, notes = [], [], []
    for case_id, (status, result) in sorted(statuses.items()):
        if status == "pass":
            passed.append(case_id)
            if case_id in gaps:
                notes.append(case_id)
            continue
        if status != "fail":
            continue
        if case_id not in gaps:
            problems.append(f"{case_id}: UNEXPECTED failure: {'; '.join(result.get('messages') or [])}")
            continue
        want_status, want_code, _ = gaps[case_id]
        got_status, got_code = last_response(result)
        if got_status is None:
            problems.append(f"{case_id}: known gap failed without a response: {'; '.join(result.get('messages') or [])}")
        elif got_status >= 500:
            problems.append(f"{case_id}: answered {got_status}; a 5xx is never a known gap")
        elif got_status != want_status or got_code != want_code:
            problems.append(
                f"{case_id}: known gap fails differently: {got_status} {got_code or '-'}, "
                f"recorded {want_status} {want_code or '-'}")
        else:
            failed_gaps.append(case_id)
    return problems, notes, passed, failed_gaps


def main(argv):
    args = list(argv)
    options = {}
    for flag in ("--cases", "--only"):
        if flag in args:
            at = args.index(flag)
            if at + 1 >= len(args):
                print(USAGE, file=sys.stderr)
                return 2
            options[flag] = args[at + 1]
            del args[at:at + 2]
    if len(args) != 2 or "--cases" not in options:
        print(USAGE, file=sys.stderr)
        return 2
    report_path, gaps_path = args
    try:
        gaps = read_gaps(gaps_path)
        every, expected = suite_ids(options["--cases"], options.get("--only"))
        results, summary = read_results(report_path)
    except (OSError, ValueError, GateError) as exc:
        print(f"conformance verdict: FAILED: {exc}")
        return 1
    problems, notes, passed, failed_gaps = judge(results, summary, expected, gaps)
    stale = sorted(i for i in gaps if i not in every)
    if stale:
        problems.append(f"known gaps that are not cases of the suite: {', '.join(stale)}")
    print(f"conformance verdict: {len(passed)} of {len(expected)} cases pass; "
          f"known gaps failing as recorded: {', '.join(failed_gaps) or 'none'}")
    if notes:
        print(f"conformance note: known gaps now passing (remove them from the list): {', '.join(notes)}")
    for problem in problems:
        print(f"conformance verdict: FAILED: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
