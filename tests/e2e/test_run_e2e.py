"""run_e2e: a notebook whose Run All stopped early gets one more try, and only then."""

from pathlib import Path

import run_e2e


def tries(monkeypatch, *outcomes):
    """Run the retry rule against test_notebook results with these problem lists."""
    results = iter(outcomes)
    calls = []

    def fake(context, lab, rel, copy, timeout):
        calls.append(rel)
        return run_e2e.Report("06_rnn", problems=list(next(results)))

    monkeypatch.setattr(run_e2e, "test_notebook", fake)
    report = run_e2e.test_notebook_twice_if_stopped(None, None, "nb.ipynb", Path("."), 1)
    return report, len(calls)


STOPPED = [f"cells [18, 20] {run_e2e.STOPPED}"]


def test_a_notebook_that_passes_runs_once(monkeypatch):
    report, calls = tries(monkeypatch, [])
    assert calls == 1 and not report.problems


def test_run_all_stopped_once_is_retried_and_noted(monkeypatch):
    report, calls = tries(monkeypatch, STOPPED, [])
    assert calls == 2 and not report.problems
    assert report.notes == [f"first Run All: {STOPPED[0]}"]


def test_run_all_stopped_twice_fails(monkeypatch):
    report, calls = tries(monkeypatch, STOPPED, STOPPED)
    assert calls == 2 and report.problems == STOPPED


def test_any_other_problem_is_not_retried(monkeypatch):
    report, calls = tries(monkeypatch, STOPPED + ["cell 3 shows an error"])
    assert calls == 1 and len(report.problems) == 2
