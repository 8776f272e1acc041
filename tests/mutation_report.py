"""Mutation testing of the core (`make mutate`, never part of `make test`): plant small bugs with mutmut
and count how many the tests catch, one module at a time, then write docs/mutation.md.

Each module runs in its own scratch copy of the repository with a pyproject.toml whose [tool.mutmut]
mutates that module only and selects only the test files that cover it: mutmut reads its settings from
the current folder, and a narrow test selection is what keeps a run within tens of minutes on two
shared cores. A survivor is either killed by a new test or listed in docs/mutation_equivalents.toml
with the reason it cannot change what a user sees.

    python tests/mutation_report.py                   # every module, smallest first
    python tests/mutation_report.py rollups coerce    # some modules; the others keep their last results
    python tests/mutation_report.py --report          # only rewrite docs/mutation.md (after editing the equivalents)
    python tests/mutation_report.py --survivors rules # after adding tests: re-run only the mutants the last full
                                                      # run of the module did not kill (refused if the module changed)
    MUTANTS='pmo_sheets.consolidate.x_fiscal_period__mutmut_*' python tests/mutation_report.py consolidate
                                                      # some mutants only: printed, not recorded in the report
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "docs" / "mutation_results.json"  # the last measured counts per module, kept between runs
REPORT = ROOT / "docs" / "mutation.md"
EQUIVALENTS = ROOT / "docs" / "mutation_equivalents.toml"
NOTES = ROOT / "docs" / "mutation_notes.md"  # hand-written: partial runs, what was measured when; appended
TARGET = 0.85
RUNS = "_runs"  # key of mutation_results.json: when each module was measured, how long it took, against what


@dataclass(frozen=True)
class Scope:
    """One module to mutate and the test files that pin its behaviour."""

    name: str
    module: str
    tests: tuple[str, ...]
    deselect: tuple[str, ...] = ()  # slow tests of those files that other selected tests already cover


# The two tests of test_pinned_behaviours.py that run whole syncs: they pin the state store, not these modules.
PINNED_SYNCS = tuple(f"tests/test_pinned_behaviours.py::{name}" for name in (
    "test_finance_comments_come_back_from_the_state_store_when_the_master_is_deleted",
    "test_an_unchanged_source_that_was_invalid_stays_invalid_on_the_next_sync"))

# Where a wrong line means a wrong finding or a wrong number; smallest first.
SCOPES = [
    # test_rules.py and test_bad_files.py reach schema_check through whole workbooks, at 90 s a run: the
    # hand-written rows of test_schema_check.py and the generated ones of test_schema_fast_path.py pin it.
    Scope("schema_check", "pmo_sheets/schema_check.py", ("tests/test_schema_check.py", "tests/test_schema_fast_path.py")),
    # test_master_rollups.py and test_master_cached_values.py build a synced portfolio per module (25 s a mutant,
    # 3 hours in all): test_rollups.py gives every function a small in-memory portfolio and hand-worked figures.
    Scope("rollups", "pmo_sheets/rollups.py", ("tests/test_rollups.py",)),
    # test_conflicts.py and test_master_cached_values.py consolidate through whole syncs (seconds a test);
    # test_consolidate.py gives consolidate() hand-written records.
    Scope("consolidate", "pmo_sheets/consolidate.py", ("tests/test_consolidate.py", "tests/test_pinned_behaviours.py"),
          deselect=PINNED_SYNCS),
    # test_rules.py reads cells through coerce too, but takes 90 s a run: the unit tests pin each reading by hand.
    Scope("coerce", "pmo_sheets/coerce.py", ("tests/test_coerce.py", "tests/test_number_conventions.py"),
          deselect=("tests/test_number_conventions.py::"
                    "test_a_portfolio_declared_decimal_comma_reaches_the_master_as_the_amount_meant",)),
    # test_rules.py plants the same mistakes in template files, at 90 s a run; test_rule_findings.py reads
    # in-memory sheets.
    Scope("rules", "pmo_sheets/rules.py", ("tests/test_rule_findings.py", "tests/test_pinned_behaviours.py"),
          deselect=PINNED_SYNCS),
    # test_sync.py, test_comments.py and the pinned syncs reach the store through whole syncs (seconds a test);
    # test_state_store.py drives it on a scratch SQLite file with hand-written expectations.
    Scope("state", "pmo_sheets/state.py", ("tests/test_state_store.py",)),
    # What a sync decides (statuses, news, exit codes, finance's comments): hand-written states, no sync.
    Scope("sync_decisions", "pmo_sheets/sync_decisions.py", ("tests/test_sync_decisions.py",)),
    # The orchestration left in sync.py (reading, the store's transaction, writing the master) is reached only
    # through whole syncs, seconds a test: not run (docs/mutation_notes.md).
    Scope("sync", "pmo_sheets/sync.py", ("tests/test_sync.py", "tests/test_comments.py", "tests/test_pinned_behaviours.py")),
    # test_master_cached_values.py syncs whole portfolios (seconds a test), test_master_limits.py writes a
    # forty-part master, test_master_rollups.py and test_master_text.py a master each: test_master_writer.py
    # pins the figures, formulas, per-part subtotals and limits on one hand-made portfolio written once.
    Scope("master", "pmo_sheets/master.py", ("tests/test_master_writer.py",)),
]


def killed_percent(killed: int, mutants: int) -> str:
    """The share killed, rounded down: 487 of 489 is 99%, never a 100% that hides two survivors."""
    return f"{100 * killed // mutants}%"


def mutmut_config(scope: Scope) -> str:
    tests = ", ".join(json.dumps(t) for t in scope.tests)
    deselect = "".join(f', "--deselect", {json.dumps(test)}' for test in scope.deselect)
    return (
        "[tool.mutmut]\n"
        'source_paths = ["pmo_sheets/"]\n'
        f'only_mutate = ["{scope.module}"]\n'
        'also_copy = ["schemas/", "workbook_templates/", "tests/"]\n'
        # LibreOffice tests are left out: each would take seconds per mutant, and the pandas expectation of
        # tests/test_master_cached_values.py checks the same cached values.
        f'pytest_add_cli_args = ["-p", "no:xdist", "-p", "no:cacheprovider", "-q", "-m", "not soffice"{deselect}]\n'
        f"pytest_add_cli_args_test_selection = [{tests}]\n")


def run_scope(scope: Scope, children: int, only: list[str] | None = None) -> dict[str, str]:
    """Mutant name -> mutmut's status ('killed', 'survived', 'no tests', 'timeout'...) for one module."""
    with tempfile.TemporaryDirectory(prefix=f"mutate-{scope.name}-") as scratch:
        work = Path(scratch)
        for folder in ("pmo_sheets", "schemas", "workbook_templates", "tests"):
            shutil.copytree(ROOT / folder, work / folder, ignore=shutil.ignore_patterns("__pycache__"))
        text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
        (work / "pyproject.toml").write_text(text.split("[tool.ruff]")[0] + mutmut_config(scope), encoding="utf-8")
        mutmut = [sys.executable, "-m", "mutmut"]
        env = {**os.environ, "CI": ""}  # a missing LibreOffice must not fail the (deselected) soffice tests
        run = subprocess.run([*mutmut, "run", "--max-children", str(children), *(only or [])], cwd=work, env=env,
                             check=False, capture_output=True, text=True)
        if run.returncode != 0:  # e.g. the clean test run failed: no mutant was checked, say why
            raise SystemExit(f"mutmut failed on {scope.module} (exit {run.returncode}):\n"
                             f"{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
        listing = subprocess.run([*mutmut, "results", "--all", "true"], cwd=work, env=env, check=True,
                                 capture_output=True, text=True).stdout
        statuses = {}
        for line in listing.splitlines():
            match = re.match(r"\s*(\S+):\s*(.+?)\s*$", line)
            if match and match.group(1).startswith("pmo_sheets.") and (
                    not only or any(fnmatch.fnmatchcase(match.group(1), pattern) for pattern in only)):
                statuses[match.group(1)] = match.group(2)
        for name, status in sorted(statuses.items()):  # each survivor's change, to kill it or call it equivalent
            if status in ("survived", "no tests"):
                show = subprocess.run([*mutmut, "show", name], cwd=work, env=env, check=False, capture_output=True,
                                      text=True)
                print(f"--- {name} ({status})\n{show.stdout.strip()}", flush=True)
    return statuses


def write_report(results: dict[str, dict[str, str]]) -> None:
    equivalents = tomllib.loads(EQUIVALENTS.read_text(encoding="utf-8")) if EQUIVALENTS.exists() else {}
    lines = ["# Mutation testing of the core", "",
             "Written by `make mutate` (tests/mutation_report.py, mutmut): small bugs planted one at a time in the",
             "modules where a wrong line means a wrong finding or a wrong number, each run against the test files",
             f"that cover it. Target: at least {TARGET:.0%} killed per module. Modules marked *not run* were not measured.",
             "",
             "| module | mutants | killed | survived | no test reaches it | timeout / other | killed % "
             "| of the rest, equivalent | measured |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    against: list[str] = []
    runs = results.get(RUNS, {})
    survivors: list[str] = []
    for scope in SCOPES:
        statuses = results.get(scope.name)
        if not statuses:
            lines.append(f"| `{scope.module}` | not run | | | | | | | |")
            continue
        counts = {kind: sum(s == kind for s in statuses.values()) for kind in ("killed", "survived", "no tests")}
        other = len(statuses) - sum(counts.values())
        equivalent = sum(status in ("survived", "no tests") and name in equivalents for name, status in statuses.items())
        run = runs.get(scope.name, {})
        when = f"{run['date']}, {run['minutes']} min" if run else ""
        if run.get("rechecked"):
            when += f"; its survivors again after new tests: {run['rechecked']}"
        if run:
            against.append(f"- `{scope.module}`: {', '.join(run['tests'])}")
        share = killed_percent(counts["killed"], len(statuses))
        lines.append(f"| `{scope.module}` | {len(statuses)} | {counts['killed']} | {counts['survived']} | "
                     f"{counts['no tests']} | {other} | {share} | {equivalent} | {when} |")
        for name, status in sorted(statuses.items()):
            if status in ("survived", "no tests"):
                why = equivalents.get(name, {}).get("why")
                survivors.append(f"- `{name}` ({status}): " + (f"equivalent: {why}" if why else "**open**: needs a test"))
    none = "(none)" if results else "(no module measured yet: run `make mutate`)"
    if against:
        lines += ["", "Each module was run against these test files only (and each mutant against those of their tests "
                  "that reach the mutated function):", "", *against]
    lines += ["", "## Survivors", "", "Each is either listed as equivalent in docs/mutation_equivalents.toml (with why) "
              "or open. `mutmut show NAME` in a scratch run shows the change.", "", *(survivors or [none]), ""]
    if NOTES.exists():
        lines += [NOTES.read_text(encoding="utf-8").rstrip(), ""]
    REPORT.write_text("\n".join(lines), encoding="utf-8")


def source_digest(scope: Scope) -> str:
    """The module's text, as measured: mutant names are only comparable between runs of the same text."""
    return hashlib.sha256((ROOT / scope.module).read_bytes()).hexdigest()[:16]


def recheck_survivors(results: dict[str, dict[str, str]], scope: Scope, children: int) -> None:
    """Run again only the mutants the module's last full run did not kill, and record their new status.

    Tests only ever get stronger between the two runs, so a mutant killed then is still killed; a changed
    module renumbers its mutants, so it needs a full run instead.
    """
    run = results.get(RUNS, {}).get(scope.name, {})
    if run.get("source") != source_digest(scope):
        raise SystemExit(f"{scope.module} changed since its last full run (or was never run): run it in full")
    names = [name for name, status in results[scope.name].items() if status != "killed"]
    print(f"re-checking {len(names)} mutants of {scope.module} that survived its full run", flush=True)
    started = time.monotonic()
    results[scope.name].update(run_scope(scope, children, names) if names else {})
    run["rechecked"] = f"{time.strftime('%Y-%m-%d')}, {round((time.monotonic() - started) / 60)} min"


def record(scope: Scope, statuses: dict[str, str], run: dict[str, object]) -> dict[str, dict[str, str]]:
    """Write one module's results into the results file as it is now, and return the whole file.

    Read again here, not when the run started: a run takes up to an hour, and results other modules
    landed meanwhile (a rebase of the shared branch) must not be overwritten with the copy read then.
    """
    results = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    results[scope.name] = statuses
    results.setdefault(RUNS, {})[scope.name] = run
    RESULTS.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return results


def main(argv: list[str]) -> int:
    if argv == ["--report"]:
        write_report(json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {})
        return 0
    children = int(os.environ.get("MUTATE_JOBS", "1"))
    if argv[:1] == ["--survivors"]:
        results = json.loads(RESULTS.read_text(encoding="utf-8"))
        for scope in SCOPES:
            if scope.name in argv[1:]:
                recheck_survivors(results, scope, children)
                results = record(scope, results[scope.name], results[RUNS][scope.name])
        write_report(results)
        return 0
    wanted = argv or [scope.name for scope in SCOPES]
    unknown = set(wanted) - {scope.name for scope in SCOPES}
    if unknown:
        print(f"unknown module(s): {', '.join(sorted(unknown))}; choose from {', '.join(s.name for s in SCOPES)}")
        return 2
    only = os.environ.get("MUTANTS", "").split()
    if only:  # a sample of a module's mutants is no measure of the module: shown, not recorded
        for scope in SCOPES:
            if scope.name in wanted:
                for name, status in sorted(run_scope(scope, children, only).items()):
                    print(f"{name}: {status}")
        return 0
    results = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    for scope in SCOPES:
        if scope.name in wanted:
            print(f"mutating {scope.module} against {', '.join(scope.tests)}", flush=True)
            started, source = time.monotonic(), source_digest(scope)
            statuses = run_scope(scope, children)
            results = record(scope, statuses, {
                "date": time.strftime("%Y-%m-%d"), "minutes": round((time.monotonic() - started) / 60), "source": source,
                "tests": [*scope.tests, *(f"not {test.split('::')[-1]}" for test in scope.deselect)]})
            write_report(results)
    write_report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
