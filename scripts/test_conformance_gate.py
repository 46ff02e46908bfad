"""Tests for conformance_gate.py: each way a report can hide an unrun or wrongly failing case
makes the gate fail, and an honest report passes. Run: python3 -m unittest discover -s scripts

Must not need the shared suite or a server: every file is written to a temporary folder.
"""
import contextlib
import io
import json
import os
import tempfile
import unittest

import conformance_gate

CASES = [{"id": "A1"}, {"id": "A2"}, {"id": "G1"}]
GAPS = "# comment\nG1  300  PGRST201  a recorded gap\n"


def result(case_id, outcome="pass", status=200, code=None, steps=True):
    body = json.dumps({"code": code}) if code else "[]"
    res = {"id": case_id, "result": outcome, "messages": [] if outcome == "pass" else ["body diff"]}
    if steps:
        res["steps"] = [{"response": {"status": status, "headers": [], "body": body}}]
    return res


def honest():
    return [result("A1"), result("A2"), result("G1", "fail", 300, "PGRST201")]


class GateTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        self.cases = self.write("cases.json", json.dumps({"cases": CASES}))
        self.gaps = self.write("gaps.txt", GAPS)

    def write(self, name, text):
        path = os.path.join(self.dir.name, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def gate(self, results=None, summary="auto", raw=None, gaps=None, only=None):
        if raw is None:
            report = {"results": results}
            if summary == "auto":
                count = lambda k: sum(1 for r in results if r.get("result") == k)
                summary = {"passed": count("pass"), "failed": count("fail"), "skipped": count("skip")}
            if summary is not None:
                report["summary"] = summary
            raw = json.dumps(report)
        path = self.write("report.json", raw)
        args = [path, self.write("g.txt", gaps) if gaps is not None else self.gaps, "--cases", self.cases]
        if only:
            args += ["--only", only]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = conformance_gate.main(args)
        return code, out.getvalue()

    def assertFails(self, needle, **kwargs):
        code, out = self.gate(**kwargs)
        self.assertEqual(code, 1, out)
        self.assertIn(needle, out)

    def test_an_honest_report_passes(self):
        code, out = self.gate(honest())
        self.assertEqual(code, 0, out)
        self.assertIn("2 of 3 cases pass; known gaps failing as recorded: G1", out)

    def test_missing_unreadable_and_empty_reports_fail(self):
        self.assertFails("no readable report", raw="{not json")
        self.assertFails("holds no results", results=[])
        self.assertFails("holds no results", raw="{}")
        code, out = self.gate(honest())
        os.remove(os.path.join(self.dir.name, "report.json"))
        self.assertEqual(conformance_gate.main([os.path.join(self.dir.name, "report.json"), self.gaps,
                                                "--cases", self.cases]), 1)

    def test_a_partial_report_fails(self):
        self.assertFails("1 of 3 cases not in the report: A2", results=[result("A1"), result("G1", "fail", 300, "PGRST201")])

    def test_fewer_cases_than_the_suite_fails_even_when_all_pass(self):
        self.assertFails("2 of 3 cases not in the report", results=[result("A1")])

    def test_only_narrows_the_expected_cases(self):
        code, out = self.gate([result("A1"), result("A2")], only="A*")
        self.assertEqual(code, 0, out)
        self.assertFails("not in the report: A2", results=[result("A1")], only="A*")

    def test_skip_and_unknown_statuses_fail(self):
        rows = honest()
        rows[1] = dict(result("A2"), result="skip")
        self.assertFails("A2: status 'skip'", results=rows)
        rows[1] = dict(result("A2"), result="xfail")
        self.assertFails("A2: status 'xfail'", results=rows)
        rows[1] = {"id": "A2"}
        self.assertFails("A2: status 'missing'", results=rows)

    def test_duplicate_ids_fail(self):
        self.assertFails("A1: reported more than once", results=honest() + [result("A1")])

    def test_duplicate_ids_in_the_suite_fail(self):
        self.cases = self.write("cases.json", json.dumps({"cases": CASES + [{"id": "A1"}]}))
        self.assertFails("duplicate case ids: A1", results=honest())

    def test_a_summary_that_does_not_add_up_fails(self):
        self.assertFails("does not match", results=honest(), summary={"passed": 3, "failed": 1, "skipped": 0})

    def test_an_unexpected_failure_fails(self):
        rows = honest()
        rows[0] = result("A1", "fail", 400, "PGRST100")
        self.assertFails("A1: UNEXPECTED failure", results=rows)

    def test_a_known_gap_failing_differently_fails(self):
        rows = honest()
        rows[2] = result("G1", "fail", 400, "PGRST201")
        self.assertFails("G1: known gap fails differently: 400 PGRST201, recorded 300 PGRST201", results=rows)
        rows[2] = result("G1", "fail", 300, "PGRST200")
        self.assertFails("known gap fails differently: 300 PGRST200", results=rows)

    def test_a_5xx_is_never_a_known_gap(self):
        rows = honest()
        rows[2] = result("G1", "fail", 500, "XX000")
        self.assertFails("G1: answered 500; a 5xx is never a known gap", results=rows)
        self.assertFails("a 500 is never a known gap", results=honest(), gaps="G1  500  -  crashes\n")

    def test_a_known_gap_without_a_response_fails(self):
        rows = honest()
        rows[2] = result("G1", "fail", steps=False)
        self.assertFails("G1: known gap failed without a response", results=rows)

    def test_gap_lines_must_be_well_formed_and_name_suite_cases(self):
        self.assertFails("expected `ID STATUS CODE reason`", results=honest(), gaps="G1 needs work\n")
        self.assertFails("not cases of the suite: Z9", results=honest(), gaps=GAPS + "Z9  400  -  gone\n")
        self.assertFails("G1 listed twice", results=honest(), gaps=GAPS + GAPS)

    def test_a_gap_that_passes_is_noted_not_failed(self):
        rows = honest()
        rows[2] = result("G1")
        code, out = self.gate(rows)
        self.assertEqual(code, 0, out)
        self.assertIn("known gaps now passing (remove them from the list): G1", out)


if __name__ == "__main__":
    unittest.main()
