"""What a sync decides, from pmo_sheets.sync_decisions on hand-written states: each source's status and problem,
what counts as news, what is surely gone, the exit code and JSON summary, Data quality's rows, and which of
finance's comments are kept (master, side copy, or the state store).

Fast unit tests (no workbook, no sync), so that `make mutate` can run them against every planted bug in
sync_decisions.py; tests/test_sync.py, tests/test_comments.py and tests/test_google_recovery.py show the same
through whole syncs.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pmo_sheets.config import PortfolioConfig, SourceSpec
from pmo_sheets.discovery import DiscoveredSource
from pmo_sheets.grid import Grid, SheetGrid
from pmo_sheets.master import SourceStatus
from pmo_sheets.masterfile import InUse
from pmo_sheets.state import SourceState
from pmo_sheets.sync_decisions import (
    Checked,
    MasterComments,
    SourceOutcome,
    SyncResult,
    can_read_again,
    comment_text,
    comments_on_master,
    config_digest,
    file_stamp,
    first_comment_column,
    link_gone,
    merged_with_side_copy,
    now_text,
    problem_of,
    quality_row,
    shows_something_new,
    state_after_check,
    status_text,
    still_configured,
    surely_gone,
)

NOW = "2026-06-03T10:00:00Z"
FINDING = {"severity": "error", "rule": "required", "sheet": "Tasks", "cell": "C7", "message": "Finish is required"}
RECORDS = {"template": "project", "project": {"project_id": "PRJ-001"}, "tables": {}}


FOUND_AS = "/portfolio/projects/a.xlsx"  # the path the glob found (a link to /p/a.xlsx)


def discovered(key: str = "file:/p/a.xlsx", kind: str = "excel", fingerprint: str | None = "111-2222",
               found_as: str | None = FOUND_AS) -> DiscoveredSource:
    return DiscoveredSource(key, kind, "projects/a.xlsx", key.removeprefix("file:"), fingerprint, found_as=found_as)


def known(**changes: Any) -> SourceState:
    """What the last sync stored about a source that was valid then."""
    base = SourceState(key="file:/p/a.xlsx", kind="excel", label="projects/a.xlsx", fingerprint="000-1", status="ok",
                       project_id="PRJ-001", template="project", errors=0, warnings=1, findings=[],
                       first_seen="2026-06-01T08:00:00.250000Z", last_checked="2026-06-02T10:00:00Z",
                       last_good_sync="2026-06-02T10:00:00Z", has_payload=True, good_project_id="PRJ-001",
                       good_template="project", template_version="2.0", found_as=FOUND_AS)
    return replace(base, **changes)


def config(tmp_path: Path, *specs: SourceSpec) -> PortfolioConfig:
    return PortfolioConfig(path=tmp_path / "portfolio.toml", name="Demo portfolio", reporting_currency="EUR",
                           master=tmp_path / "master.xlsx", state=tmp_path / "state.sqlite", sources=list(specs))


# ---- a source's status and problem ------------------------------------------------------------------------

@pytest.mark.parametrize(("problem", "has_payload", "status"), [
    (None, True, "ok"),
    (None, False, "ok"),
    ("invalid", True, "invalid, last good data kept"),
    ("invalid", False, "invalid, never valid"),
    ("unreadable", True, "unreadable, last good data kept"),
    ("unreadable", False, "unreadable, never valid"),
    ("missing", True, "missing, last good data kept"),
    ("missing", False, "missing"),
])
def test_a_sources_status_says_its_problem_and_whether_its_last_good_data_counts(
        problem: str | None, has_payload: bool, status: str) -> None:
    assert status_text(problem, has_payload) == status


def test_a_new_valid_source_is_ok_and_its_records_are_the_good_ones() -> None:
    check = Checked("project", "PRJ-001", True, 0, 2, [FINDING], RECORDS, template_version="2.0")
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    state, problem = state_after_check(discovered(), check, None, NOW)
    after = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert problem is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", state.first_seen)  # to the microsecond
    assert before <= dt.datetime.fromisoformat(state.first_seen.removesuffix("Z")) <= after
    assert state == SourceState(key="file:/p/a.xlsx", kind="excel", label="projects/a.xlsx", fingerprint="111-2222",
                                status="ok", project_id="PRJ-001", template="project", errors=0, warnings=2,
                                findings=[FINDING], first_seen=state.first_seen, last_checked=NOW, last_good_sync=NOW,
                                has_payload=True, good_project_id="PRJ-001", good_template="project",
                                template_version="2.0", found_as="/portfolio/projects/a.xlsx")


def test_a_valid_source_turning_invalid_keeps_its_last_good_data_and_first_sighting() -> None:
    check = Checked("budget", None, True, 2, 0, [FINDING, FINDING], None, template_version="1.0")
    state, problem = state_after_check(discovered(), check, known(), NOW)
    assert problem == "invalid"
    assert state == known(fingerprint="111-2222", status="invalid, last good data kept", template="budget", errors=2,
                          warnings=0, findings=[FINDING, FINDING], last_checked=NOW, template_version="1.0")


def test_an_unreadable_source_keeps_no_fingerprint_so_it_is_read_again_next_time() -> None:
    check = Checked(None, None, False, 1, 0, [FINDING], None)
    state, problem = state_after_check(discovered(), check, known(), NOW)
    assert problem == "unreadable"
    assert state == known(fingerprint=None, status="unreadable, last good data kept", template=None, errors=1,
                          warnings=0, findings=[FINDING], last_checked=NOW, template_version=None)


def test_a_source_never_valid_stays_without_good_data() -> None:
    never = known(status="invalid, never valid", errors=3, has_payload=False, last_good_sync=None, good_project_id=None,
                  good_template=None, project_id=None)
    check = Checked("project", "PRJ-007", True, 1, 0, [FINDING], None, template_version="2.0")
    state, problem = state_after_check(discovered(), check, never, NOW)
    assert problem == "invalid"
    assert state == replace(never, fingerprint="111-2222", project_id="PRJ-007", errors=1, warnings=0,
                            findings=[FINDING], last_checked=NOW)
    first, problem = state_after_check(discovered(), Checked(None, None, False, 1, 0, [FINDING], None), None, NOW)
    assert (first.status, first.has_payload, first.last_good_sync, first.good_project_id, first.good_template,
            first.project_id, problem) == ("unreadable, never valid", False, None, None, None, None, "unreadable")


def test_a_source_found_through_another_link_now_remembers_that_one() -> None:
    check = Checked("project", "PRJ-001", True, 0, 1, [], RECORDS, template_version="2.0")
    state, _ = state_after_check(discovered(found_as="/portfolio/shared/a.xlsx"), check, known(), NOW)
    assert state == known(fingerprint="111-2222", last_checked=NOW, last_good_sync=NOW,
                          found_as="/portfolio/shared/a.xlsx")


def test_a_source_valid_again_takes_its_new_project_as_the_good_one() -> None:
    stale = known(status="invalid, last good data kept", errors=2, good_template="budget")
    check = Checked("project", "PRJ-002", True, 0, 0, [], RECORDS, template_version="2.0")
    state, problem = state_after_check(discovered(), check, stale, NOW)
    assert problem is None
    assert state == known(fingerprint="111-2222", project_id="PRJ-002", status="ok", warnings=0, last_checked=NOW,
                          last_good_sync=NOW, good_project_id="PRJ-002", good_template="project")


@pytest.mark.parametrize(("previous", "problem"), [
    (known(), None),
    (known(errors=2, status="invalid, last good data kept"), "invalid"),
    (known(errors=2, has_payload=False, status="invalid, never valid"), "invalid"),  # stays invalid, never "ok"
    (known(errors=0, has_payload=False), "invalid"),
    (known(errors=1, template=None, status="unreadable, last good data kept"), "unreadable"),
    (known(errors=1, template=None, has_payload=False), "unreadable"),
    (known(errors=0, template=None, has_payload=False), "unreadable"),
])
def test_an_unchanged_source_keeps_the_problem_its_last_check_found(previous: SourceState, problem: str | None) -> None:
    assert problem_of(previous) == problem


# ---- news, reading again, gone -----------------------------------------------------------------------------

def outcome(state: SourceState, problem: str | None, *, read: bool = True, source: DiscoveredSource | None = None,
            ) -> SourceOutcome:
    return SourceOutcome(source or discovered(state.key, state.kind), state, read, problem)


def test_a_source_read_again_and_failing_the_same_way_is_no_news() -> None:
    failing = known(status="invalid, last good data kept", errors=1, findings=[FINDING])
    assert not shows_something_new(outcome(failing, "invalid"), failing)
    # the sync's own dependency findings of last time are not the workbook's
    dependency = {"severity": "warning", "rule": "dependency-project-unknown", "message": "PRJ-9 is not in the portfolio"}
    late = {"severity": "warning", "rule": "dependency-on-late-project", "message": "PRJ-2 finishes later"}
    assert not shows_something_new(outcome(failing, "invalid"), replace(failing, findings=[dependency, FINDING, late]))


@pytest.mark.parametrize("change", [{"label": "projects/b.xlsx"}, {"status": "unreadable, last good data kept"},
                                    {"project_id": "PRJ-002"}, {"template": "budget"}, {"findings": []},
                                    {"findings": [FINDING, FINDING]}])
def test_a_source_failing_differently_is_news(change: dict[str, Any]) -> None:
    failing = known(status="invalid, last good data kept", errors=1, findings=[FINDING])
    assert shows_something_new(outcome(replace(failing, **change), "invalid"), failing)


def test_a_valid_or_new_source_is_always_news() -> None:
    assert shows_something_new(outcome(known(), None), known())
    assert shows_something_new(outcome(known(status="invalid, never valid"), "invalid"), None)


@pytest.mark.parametrize(("kind", "fingerprint", "problem", "again"), [
    ("excel", "1-2", "invalid", True),
    ("excel", None, None, True),
    ("excel", "1-2", "missing", False),
    ("google_sheet", "rev-5", "unreadable", True),
    ("google_sheet", None, "unreadable", False),  # not listed this time: no way to reach it
    ("google_sheet", "rev-5", "missing", False),
    ("google", "x", "unreadable", False),  # a Drive folder that failed is no spreadsheet
])
def test_which_sources_with_damaged_records_can_be_read_again(kind: str, fingerprint: str | None, problem: str | None,
                                                              again: bool) -> None:
    state = known(kind=kind)
    assert can_read_again(outcome(state, problem, source=discovered(state.key, kind, fingerprint))) is again


def test_a_glob_under_a_linked_folder_still_names_the_files_in_the_real_one(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "shared").symlink_to(tmp_path / "real")
    base = tmp_path.resolve()
    linked = config(tmp_path, SourceSpec("excel", "shared/*.xlsx"))
    assert still_configured(f"file:{base}/real/a.xlsx", linked)  # discovery keys it by its real path
    assert not still_configured(f"file:{base}/real/a.xlsm", linked)
    assert not still_configured(f"file:{base}/elsewhere/a.xlsx", linked)


def test_a_deleted_link_is_still_named_by_the_glob_it_was_found_by(tmp_path: Path) -> None:
    # projects/a.xlsx was a link to /elsewhere/a.xlsx: discovery keyed it by the real path, which no glob names.
    (tmp_path / "real").mkdir()
    (tmp_path / "shared").symlink_to(tmp_path / "real")
    globbed = config(tmp_path, SourceSpec("excel", "projects/*.xlsx"), SourceSpec("excel", "shared/*.xlsm"))
    assert still_configured("file:/elsewhere/a.xlsx", globbed, f"{tmp_path}/projects/a.xlsx")
    assert not still_configured("file:/elsewhere/a.xlsx", globbed)  # recorded before links were: as before
    assert not still_configured("file:/elsewhere/a.xlsx", globbed, f"{tmp_path}/projects/a.xlsm")
    assert not still_configured("file:/elsewhere/a.xlsx", globbed, f"{tmp_path}/other/a.xlsx")
    # found through the linked folder shared/, as the glob spells it (not through real/, where it resolves)
    assert still_configured("file:/elsewhere/b.xlsm", globbed, f"{tmp_path}/shared/b.xlsm")
    assert not still_configured("file:/elsewhere/b.xlsm", globbed, f"{tmp_path.resolve()}/real/b.xlsm")
    # the coordinator took the glob out of portfolio.toml: the source leaves quietly
    assert not still_configured("file:/elsewhere/a.xlsx", config(tmp_path, SourceSpec("excel", "other/*.xlsx")),
                                f"{tmp_path}/projects/a.xlsx")
    assert not still_configured("gsheet:1AbC", globbed, f"{tmp_path}/projects/a.xlsx")  # no file: found_as aside


def test_a_double_star_names_files_as_discovery_finds_them(tmp_path: Path) -> None:
    base = tmp_path.resolve()
    deep = config(tmp_path, SourceSpec("excel", "projects/**/*.xlsx"))
    assert still_configured(f"file:{base}/projects/a.xlsx", deep)  # ** stands for no folder too
    assert still_configured(f"file:{base}/projects/2026/q1/b.xlsx", deep)
    assert not still_configured(f"file:{base}/other/a.xlsx", deep)
    assert still_configured("file:/elsewhere/a.xlsx", deep, f"{tmp_path}/projects/a.xlsx")
    flat = config(tmp_path, SourceSpec("excel", "projects/*.xlsx"))
    assert not still_configured(f"file:{base}/projects/2026/b.xlsx", flat)  # a * stays within one folder, as in glob
    assert not still_configured("file:/elsewhere/b.xlsx", flat, f"{tmp_path}/projects/2026/b.xlsx")


def test_a_link_loop_in_the_configuration_is_no_error(tmp_path: Path) -> None:
    (tmp_path / "loop.xlsx").symlink_to(tmp_path / "loop.xlsx")
    looped = config(tmp_path, SourceSpec("excel", "loop.xlsx"), SourceSpec("excel", "projects/*.xlsx"))
    assert still_configured(f"file:{tmp_path.resolve()}/projects/a.xlsx", looped)
    assert still_configured(f"file:{tmp_path.resolve()}/loop.xlsx", looped)
    assert not still_configured(f"file:{tmp_path.resolve()}/other.xlsx", looped)


def test_a_missing_file_is_surely_gone_only_while_its_folder_is_there(tmp_path: Path) -> None:
    (tmp_path / "projects").mkdir()
    assert surely_gone(f"file:{tmp_path}/projects/a.xlsx")
    assert surely_gone(f"file:{tmp_path}/projects/a.xlsx", drive_listed=False)  # Drive has nothing to do with files
    assert not surely_gone(f"file:{tmp_path}/unmounted-share/a.xlsx")
    (tmp_path / "not-a-folder").write_text("x")
    assert not surely_gone(f"file:{tmp_path}/not-a-folder/a.xlsx")


def test_a_missing_link_is_surely_gone_only_while_the_folder_it_was_found_in_is_there(tmp_path: Path) -> None:
    (tmp_path / "projects").mkdir()  # the link projects/a.xlsx was there, to elsewhere/a.xlsx
    assert surely_gone(f"file:{tmp_path}/elsewhere/a.xlsx", found_as=f"{tmp_path}/projects/a.xlsx")
    (tmp_path / "elsewhere").mkdir()
    assert not surely_gone(f"file:{tmp_path}/elsewhere/a.xlsx", found_as=f"{tmp_path}/unmounted-share/a.xlsx")
    assert surely_gone(f"file:{tmp_path}/elsewhere/a.xlsx", found_as=None)  # recorded before links were: the real folder


def test_a_missing_spreadsheet_is_surely_gone_only_when_drive_was_listed() -> None:
    assert surely_gone("gsheet:1AbC")
    assert surely_gone("gsheet:1AbC", drive_listed=True)
    assert not surely_gone("gsheet:1AbC", drive_listed=False)


def test_which_known_sources_the_configuration_still_names(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "Xlink").symlink_to(tmp_path / "real")  # a capital X: no glob character
    base = tmp_path.resolve()
    excel_only = config(tmp_path, SourceSpec("excel", "projects/*.xlsx"), SourceSpec("excel", "Xlink/one.xlsx"),
                        SourceSpec("excel", "/abs/elsewhere/[ab].xlsx"))
    assert still_configured(f"file:{base}/projects/a.xlsx", excel_only)
    assert not still_configured(f"file:{base}/other/a.xlsx", excel_only)
    assert still_configured(f"file:{base}/real/one.xlsx", excel_only)  # a path is resolved as discovery does
    assert not still_configured(f"file:{base}/real/two.xlsx", excel_only)
    assert still_configured("file:/abs/elsewhere/b.xlsx", excel_only)  # an absolute target replaces the base
    assert not still_configured("file:/abs/elsewhere/c.xlsx", excel_only)
    assert not still_configured("gsheet:1AbC", excel_only)
    assert not still_configured("glob:projects/*.xlsx", excel_only)  # a failed entry is kept only while it fails
    with_google = config(tmp_path, SourceSpec("google_folder", "folder-id"))
    assert still_configured("gsheet:1AbC", with_google)
    assert not still_configured("google:folder-id", with_google)
    assert not still_configured("glob:projects/*.xlsx", with_google)
    assert not still_configured(f"file:{base}/projects/a.xlsx", with_google)
    assert not still_configured("file:/abs/elsewhere/b.xlsx", config(tmp_path, SourceSpec("google_sheet", "x"),
                                                                       SourceSpec("excel", "/abs/elsewhere/a.xlsx")))


# ---- the sync's counts, exit code and summary --------------------------------------------------------------

def result_with(tmp_path: Path, *outcomes: SourceOutcome, **fields: Any) -> SyncResult:
    return SyncResult(config(tmp_path), outcomes=list(outcomes), **fields)


def test_the_counts_of_a_sync(tmp_path: Path) -> None:
    result = result_with(tmp_path, outcome(known(), None), outcome(known(), None), outcome(known(), None, read=False),
                         outcome(known(), "invalid"), outcome(known(), "invalid", read=False),
                         outcome(known(), "unreadable"), outcome(known(), "missing", read=False),
                         outcome(known(), "conflict", read=False))
    assert result.counts == {"read": 4, "unchanged": 3, "invalid": 2, "unreadable": 1, "missing": 1, "conflict": 1}
    assert result.count("read") == 4
    assert result_with(tmp_path).counts == {"read": 0, "unchanged": 0, "invalid": 0, "unreadable": 0, "missing": 0,
                                            "conflict": 0}


IN_EXCEL = InUse(Path("/m/~$master.xlsx"), "Excel", "Jane Doe", dt.datetime(2026, 6, 1, 9, 12, tzinfo=dt.UTC))


@pytest.mark.parametrize(("problems", "fields", "code"), [
    ((None, None), {"written": True}, 0),
    ((), {"written": False}, 0),  # nothing changed: the master was not rewritten
    ((None, "invalid"), {"written": True}, 1),
    (("unreadable",), {"written": False}, 1),
    ((None, "missing"), {"written": True}, 1),
    ((None, "conflict"), {"written": True}, 1),
    ((None,), {"written": True, "master_in_use": IN_EXCEL}, 1),  # written beside the master: say so
    ((None,), {"written": False, "master_in_use": IN_EXCEL}, 0),
    ((None,), {"written": True, "error": "the state store could not be updated"}, 1),
    ((None,), {"written": False, "error": "cannot write the master"}, 2),
    ((), {"written": False, "error": "cannot write the master"}, 2),
])
def test_the_exit_code_of_a_sync(tmp_path: Path, problems: tuple[str | None, ...], fields: dict[str, Any],
                                 code: int) -> None:
    result = result_with(tmp_path, *(outcome(known(), problem) for problem in problems), **fields)
    assert result.exit_code == code


def test_the_json_summary_of_a_sync(tmp_path: Path) -> None:
    stale = known(status="invalid, last good data kept", errors=1, warnings=0, findings=[FINDING])
    result = result_with(tmp_path, outcome(known(), None, read=False), outcome(stale, "invalid"), written=True,
                         seconds=1.23456, figures={"projects": 2}, conflicts=[{"project_id": "PRJ-001"}],
                         pruned=["gone.xlsx"], not_pruned=["offline.xlsx"], written_to=tmp_path / "master.new.xlsx",
                         master_in_use=IN_EXCEL, reread_damaged=["b.xlsx"], removed_leftovers=["~master.tmp"],
                         state_set_aside=tmp_path / "state.sqlite.before-rebuild-20260601-101010")
    source = {"source": "projects/a.xlsx", "kind": "excel", "project_id": "PRJ-001", "last_good_sync": "2026-06-02T10:00:00Z"}
    assert result.to_dict() == {
        "portfolio": "Demo portfolio", "master": f"{tmp_path}/master.xlsx", "written": True, "error": None,
        "seconds": 1.235, "counts": {"read": 1, "unchanged": 1, "invalid": 1, "unreadable": 0, "missing": 0, "conflict": 0},
        "figures": {"projects": 2}, "reporting_currency": "EUR", "conflicts": [{"project_id": "PRJ-001"}],
        "pruned": ["gone.xlsx"], "not_pruned": ["offline.xlsx"], "written_to": f"{tmp_path}/master.new.xlsx",
        "master_in_use": {"lock_file": "/m/~$master.xlsx", "program": "Excel", "user": "Jane Doe",
                          "since": "2026-06-01T09:12:00+00:00"},
        "reread_damaged": ["b.xlsx"], "removed_leftovers": ["~master.tmp"],
        "state_set_aside": f"{tmp_path}/state.sqlite.before-rebuild-20260601-101010",
        "sources": [{**source, "status": "ok", "read": False, "errors": 0, "warnings": 1, "found_as_gone": None,
                     "findings": []},
                    {**source, "status": "invalid, last good data kept", "read": True, "errors": 1, "warnings": 0,
                     "found_as_gone": None, "findings": [FINDING]}]}
    quiet = result_with(tmp_path, error="cannot write the master").to_dict()
    assert (quiet["written"], quiet["error"], quiet["seconds"], quiet["written_to"], quiet["master_in_use"],
            quiet["state_set_aside"], quiet["sources"]) == (False, "cannot write the master", 0.0, None, None, None, [])


# ---- Data quality rows, the time, the configuration's digest ------------------------------------------------

def test_a_data_quality_row_shows_the_first_three_findings_and_counts_the_rest() -> None:
    findings = [FINDING, {"severity": "error", "rule": "enum", "sheet": "Project", "cell": None, "message": "RAG is X"},
                {"severity": "warning", "rule": "file", "sheet": None, "cell": None, "message": "macros ignored"},
                {"severity": "warning", "rule": "late", "sheet": "Tasks", "cell": "D9", "message": "not shown"}]
    state = known(status="invalid, last good data kept", errors=2, warnings=2, findings=findings,
                  template_version="1.0")
    assert quality_row(outcome(state, "invalid")) == SourceStatus(
        "projects/a.xlsx", "excel", "PRJ-001", "invalid, last good data kept", 2, 2,
        "Tasks!C7 required: Finish is required; Project! enum: RAG is X; file: macros ignored; and 1 more",
        "2026-06-02T10:00:00Z", "2026-06-02T10:00:00Z", template_version="1.0")


@pytest.mark.parametrize(("findings", "errors", "warnings", "first"), [
    ([], 0, 0, ""),
    ([FINDING], 1, 0, "Tasks!C7 required: Finish is required"),
    ([{**FINDING, "sheet": None}], 1, 0, "C7 required: Finish is required"),
    ([FINDING] * 3, 3, 0, "; ".join(["Tasks!C7 required: Finish is required"] * 3)),
    ([FINDING] * 3, 1500, 2, "; ".join(["Tasks!C7 required: Finish is required"] * 3) + "; and 1,499 more"),
    ([FINDING] * 2, 4, 0, "; ".join(["Tasks!C7 required: Finish is required"] * 2) + "; and 1 more"),
])
def test_findings_past_the_kept_ones_are_counted(findings: list[dict[str, Any]], errors: int, warnings: int,
                                                 first: str) -> None:
    assert quality_row(outcome(known(findings=findings, errors=errors, warnings=warnings), None)).first_findings == first


def test_a_missing_file_found_through_a_link_says_which_path_is_gone() -> None:
    linked = known(found_as="/p/shared/a.xlsx", findings=[FINDING], errors=1, warnings=0)
    gone = outcome(linked, "missing", read=False)
    assert link_gone(gone) == "/p/shared/a.xlsx"
    assert quality_row(gone).first_findings == "found as /p/shared/a.xlsx, which is gone; Tasks!C7 required: Finish is required"
    assert quality_row(outcome(replace(linked, findings=[], errors=0), "missing")).first_findings == (
        "found as /p/shared/a.xlsx, which is gone")
    gone_result = result_with(Path("/p"), gone).to_dict()
    assert gone_result["sources"][0]["found_as_gone"] == "/p/shared/a.xlsx"
    # found where it is (no link), not missing, or found before found_as was stored: nothing to add
    assert link_gone(outcome(replace(linked, found_as="/p/a.xlsx"), "missing")) is None
    assert link_gone(outcome(linked, "invalid")) is None
    assert link_gone(outcome(linked, None)) is None
    assert link_gone(outcome(replace(linked, found_as=None), "missing")) is None
    assert quality_row(outcome(linked, "invalid")).first_findings == "Tasks!C7 required: Finish is required"


def test_the_time_is_utc_to_the_second_or_to_the_microsecond() -> None:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", now_text())
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z", now_text(True))
    shown = dt.datetime.fromisoformat(now_text().removesuffix("Z"))
    assert abs(shown - dt.datetime.now(dt.UTC).replace(tzinfo=None)) < dt.timedelta(seconds=5)


def test_the_configurations_digest_changes_with_its_text(tmp_path: Path) -> None:
    settings = config(tmp_path)
    assert config_digest(settings) == ""  # no file (a configuration made in code)
    settings.path.write_bytes(b"abc")
    assert config_digest(settings) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


# ---- finance's comments ------------------------------------------------------------------------------------

STANDARD = ["Project ID", "Project Name", "Program", "Project Manager", "Status", "RAG", "Start", "Finish", "Currency",
            "FX Rate", "% Complete", "Approved Budget", "Budget", "Actuals", "Forecast", "EAC", "Variance",
            "Variance %", "Open Risks", "High Risks", "Highest Risk Score", "Data Status", "Last Good Sync",
            "Status Month", "Status RAG", "Status Summary"]


def project_row(project_id: Any, *comments: Any, columns: int = len(STANDARD)) -> list[Any]:
    return [project_id, *["x"] * (columns - 1), *comments]


def master_grid(portfolio: list[list[Any]] | None, archive: list[list[Any]] | None = None) -> Grid:
    grid = Grid("/m/master.xlsx")
    if portfolio is not None:
        grid.sheets["Portfolio"] = SheetGrid("Portfolio", portfolio)
    if archive is not None:
        grid.sheets["Comments archive"] = SheetGrid("Comments archive", archive)
    return grid


def test_finance_columns_start_after_the_standard_ones() -> None:
    assert first_comment_column([*STANDARD, "Finance comment"]) == 26
    assert first_comment_column(STANDARD) == 26
    assert first_comment_column([f" {h} " for h in STANDARD]) == 26  # spaces around a header do not matter
    # a master written before the status report's columns: its Finance comment sits where those are now
    assert first_comment_column([*STANDARD[:23], "Finance comment"]) == 23
    assert first_comment_column(STANDARD[:23]) == 23
    assert first_comment_column(["Project ID", "Name"]) == 1
    assert first_comment_column([]) == 0


@pytest.mark.parametrize(("value", "text"), [(12.0, "12"), (-3.0, "-3"), (12.5, "12.5"), (7, "7"), ("on hold", "on hold"),
                                             (True, "True"), (dt.date(2026, 6, 1), "2026-06-01")])
def test_a_comment_cell_reads_as_the_text_finance_typed(value: Any, text: str) -> None:
    assert comment_text(value) == text


def test_finance_comments_are_read_from_the_portfolio_sheet_and_the_archive() -> None:
    portfolio = [[*STANDARD, "Finance comment", " ", "Owner "],
                 project_row("PRJ-001", "Q3 overspend agreed", "ignored: no header", "Ana"),
                 project_row(" PRJ-002 ", 12.0, "", "  "),
                 project_row("PRJ-003", "", "", ""),  # shown, with nothing typed
                 project_row("PRJ-004"),  # a row shorter than the header
                 project_row("Total", "not a project"),
                 project_row("  ", "no project ID"),
                 [],
                 project_row("PRJ-005", None, None, 3.5)]
    archive = [["Project ID", "Column", "Comment", "Archived"],
               ["PRJ-OLD", "Finance comment", "closed in May", "2026-05-31T10:00:00Z"],
               ["PRJ-OLD", "Owner", 42.0, "2026-05-31T10:00:00Z"],
               ["", "Finance comment", "no project", "2026-05-31"],
               ["PRJ-X", "Finance comment", "three cells"]]
    found = comments_on_master(master_grid(portfolio, archive))
    assert found == MasterComments(
        headers=["Finance comment", "Owner"],
        comments={"PRJ-001": {"Finance comment": "Q3 overspend agreed", "Owner": "Ana"},
                  "PRJ-002": {"Finance comment": "12"}, "PRJ-005": {"Finance comment": "None", "Owner": "3.5"}},
        shown={"PRJ-001", "PRJ-002", "PRJ-003", "PRJ-004", "PRJ-005"},
        archive=[("PRJ-OLD", "Finance comment", "closed in May", "2026-05-31T10:00:00Z"),
                 ("PRJ-OLD", "Owner", "42", "2026-05-31T10:00:00Z")],
        stamp=None)


def test_an_older_masters_finance_comment_is_found_where_it_is() -> None:
    portfolio = [[*STANDARD[:23], "Finance comment"], project_row("PRJ-001", "kept", columns=23)]
    found = comments_on_master(master_grid(portfolio))
    assert (found.headers, found.comments) == (["Finance comment"], {"PRJ-001": {"Finance comment": "kept"}})


def test_a_master_without_the_sheets_has_no_comments() -> None:
    assert comments_on_master(master_grid(None)) == MasterComments()
    assert comments_on_master(master_grid([], [])) == MasterComments()
    assert comments_on_master(master_grid([STANDARD], [["Project ID", "Column", "Comment", "Archived"]])) == MasterComments()


def test_the_master_is_the_truth_for_what_it_shows_and_the_store_for_the_rest() -> None:
    stored = {"PRJ-001": {"Finance comment": "old"}, "PRJ-002": {"Finance comment": "cleared on the master since"},
              "PRJ-003": {"Finance comment": "left the portfolio earlier"}}
    master = MasterComments(headers=["Finance comment"], comments={"PRJ-001": {"Finance comment": "new"}},
                            shown={"PRJ-001", "PRJ-002"})
    assert master.carried(stored) == {"PRJ-001": {"Finance comment": "new"},
                                      "PRJ-003": {"Finance comment": "left the portfolio earlier"}}
    assert MasterComments().carried(stored) == stored  # no master (deleted): all from the store


def test_the_master_changed_since_its_comments_were_read(tmp_path: Path) -> None:
    master = tmp_path / "master.xlsx"
    assert file_stamp(master) is None
    assert not MasterComments().changed_since(master)  # no master then, none now
    master.write_bytes(b"first")
    assert MasterComments().changed_since(master)  # created since
    os.utime(master, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    assert file_stamp(master) == (1_700_000_000_000_000_000, 5)
    read = MasterComments(stamp=file_stamp(master))
    assert not read.changed_since(master)
    master.write_bytes(b"saved by finance")
    os.utime(master, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))  # the same time, another size
    assert read.changed_since(master)
    master.unlink()
    assert read.changed_since(master)


OLDER, NEWER = (1_000, 10), (2_000, 10)


def test_a_cell_changed_in_one_file_is_taken_from_it() -> None:
    baseline = {"PRJ-001": {"Finance comment": "base", "Owner": "Ana"}}
    master = MasterComments(headers=["Finance comment", "Owner"], shown={"PRJ-001"}, stamp=NEWER,
                            comments={"PRJ-001": {"Finance comment": "master's change", "Owner": "Ana"}})
    beside = MasterComments(headers=["Finance comment", "Owner", "Risk note"], shown={"PRJ-001"}, stamp=OLDER,
                            comments={"PRJ-001": {"Finance comment": "base", "Owner": "Bo"}})
    merged = merged_with_side_copy(master, beside, baseline)
    assert merged == MasterComments(headers=["Finance comment", "Owner", "Risk note"], shown={"PRJ-001"}, stamp=NEWER,
                                    comments={"PRJ-001": {"Finance comment": "master's change", "Owner": "Bo"}})


@pytest.mark.parametrize(("master_stamp", "beside_stamp", "winner"), [
    (NEWER, OLDER, "master"), (OLDER, NEWER, "side copy"), (NEWER, NEWER, "master"), (None, OLDER, "side copy"),
    (OLDER, None, "master"), (None, None, "master"),
    (None, (1, 10), "side copy")])
def test_a_cell_changed_in_both_files_is_taken_from_the_one_saved_last(
        master_stamp: tuple[int, int] | None, beside_stamp: tuple[int, int] | None, winner: str) -> None:
    master = MasterComments(shown={"PRJ-001"}, stamp=master_stamp, comments={"PRJ-001": {"Finance comment": "master"}})
    beside = MasterComments(shown={"PRJ-001"}, stamp=beside_stamp, comments={"PRJ-001": {"Finance comment": "side copy"}})
    merged = merged_with_side_copy(master, beside, {"PRJ-001": {"Finance comment": "base"}})
    assert merged.comments == {"PRJ-001": {"Finance comment": winner}}
    assert merged.stamp == master_stamp  # what changed_since() watches: the master finance saves


@pytest.mark.parametrize(("master_stamp", "beside_stamp"), [(NEWER, OLDER), (OLDER, NEWER)])
def test_a_column_or_project_new_since_the_last_sync_is_kept_from_either_file(
        master_stamp: tuple[int, int], beside_stamp: tuple[int, int]) -> None:
    master = MasterComments(shown={"PRJ-001", "PRJ-NEW"}, stamp=master_stamp,
                            comments={"PRJ-001": {"Finance comment": "base", "Risk note": "typed in the master"},
                                      "PRJ-NEW": {"Finance comment": "first comment"}})
    beside = MasterComments(shown={"PRJ-001"}, stamp=beside_stamp,
                            comments={"PRJ-001": {"Finance comment": "base", "Owner": "typed in the side copy"}})
    merged = merged_with_side_copy(master, beside, {"PRJ-001": {"Finance comment": "base"}})
    assert merged.comments == {"PRJ-001": {"Finance comment": "base", "Risk note": "typed in the master",
                                           "Owner": "typed in the side copy"},
                               "PRJ-NEW": {"Finance comment": "first comment"}}


def test_a_cell_cleared_in_one_file_stays_cleared() -> None:
    master = MasterComments(shown={"PRJ-001", "PRJ-002"}, stamp=NEWER,
                            comments={"PRJ-002": {"Finance comment": "kept"}})
    beside = MasterComments(shown={"PRJ-001", "PRJ-002"}, stamp=OLDER,
                            comments={"PRJ-001": {"Finance comment": "base"}, "PRJ-002": {"Finance comment": "kept"}})
    merged = merged_with_side_copy(master, beside, {"PRJ-001": {"Finance comment": "base"},
                                                    "PRJ-002": {"Finance comment": "kept"}})
    assert merged.comments == {"PRJ-002": {"Finance comment": "kept"}}


def test_a_project_only_one_file_shows_keeps_that_files_comments_and_the_archives_are_joined() -> None:
    master = MasterComments(shown={"PRJ-001"}, stamp=NEWER, comments={"PRJ-001": {"Finance comment": "m"}},
                            archive=[("PRJ-9", "Finance comment", "a", "t1"), ("PRJ-8", "Owner", "b", "t2")])
    beside = MasterComments(shown={"PRJ-002"}, stamp=OLDER, comments={"PRJ-002": {"Finance comment": "s"}},
                            archive=[("PRJ-8", "Owner", "b", "t2"), ("PRJ-7", "Owner", "c", "t3")])
    baseline = {"PRJ-001": {"Finance comment": "base 1"}, "PRJ-002": {"Finance comment": "base 2"},
                "PRJ-003": {"Finance comment": "shown in neither"}}
    merged = merged_with_side_copy(master, beside, baseline)
    assert merged == MasterComments(
        shown={"PRJ-001", "PRJ-002"}, stamp=NEWER,
        comments={"PRJ-001": {"Finance comment": "m"}, "PRJ-002": {"Finance comment": "s"}},
        archive=[("PRJ-9", "Finance comment", "a", "t1"), ("PRJ-8", "Owner", "b", "t2"), ("PRJ-7", "Owner", "c", "t3")])
    # a project one file does not show is not cleared by that file's silence
    older_shows_it = merged_with_side_copy(
        MasterComments(shown=set(), stamp=NEWER),
        MasterComments(shown={"PRJ-001"}, stamp=OLDER, comments={"PRJ-001": {"Finance comment": "base 1"}}), baseline)
    assert older_shows_it.comments == {"PRJ-001": {"Finance comment": "base 1"}}
    newer_shows_nothing = merged_with_side_copy(
        MasterComments(shown={"PRJ-001"}, stamp=OLDER, comments={"PRJ-001": {"Finance comment": "changed"}}),
        MasterComments(shown=set(), stamp=NEWER), baseline)
    assert newer_shows_nothing.comments == {"PRJ-001": {"Finance comment": "changed"}}
