"""`pmo validate` as DESIGN.md states it: text and JSON reports, exit codes, globs, annotated copies."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from workbooks import found, pmo, small_sample, write

from pmo_sheets.annotate import ERROR_FILL, WARNING_FILL

FILE_KEYS = ["source", "template", "template_version", "project_id", "valid", "errors", "warnings", "findings"]
FINDING_KEYS = ["severity", "rule", "sheet", "cell", "message"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """good.xlsx (valid), mixed.xlsx (2 errors, 2 warnings), warned.xlsx (1 warning), sub/deep.xlsx (valid)."""
    root = tmp_path_factory.mktemp("portfolio")
    write(root / "good.xlsx", kind="risk_log")
    sample = small_sample()
    tasks = sample.tables["tasks"]
    tasks[6]["percent_complete"] = "half"  # error at H8
    tasks[4].update(percent_complete=1.0, status="In Progress")  # warning at I6
    end = sample.project["finish_date"]
    # E13: an error (finish before start) and a warning (after the project's finish) in one cell
    tasks[11].update(start=end + dt.timedelta(days=9), finish=end + dt.timedelta(days=4),
                     baseline_start=None, baseline_finish=None)
    write(root / "mixed.xlsx", sample, "plan")
    warned = small_sample()
    warned.tables["tasks"][4].update(percent_complete=1.0, status="In Progress")
    write(root / "warned.xlsx", warned, "plan")
    write(root / "sub" / "deep.xlsx", kind="risk_log")
    return root


MIXED = [("complete-not-closed", "Tasks", "I6"), ("type-invalid", "Tasks", "H8"),
         ("finish-before-start", "Tasks", "E13"), ("task-outside-project", "Tasks", "E13")]


def test_text_report_lists_each_finding_with_its_clickable_cell(folder: Path) -> None:
    path = folder / "mixed.xlsx"
    result = pmo("validate", str(path))

    lines = result.stdout.splitlines()
    assert lines[0] == f"{path} (plan 2.0, PRJ-0001): 2 errors, 2 warnings"
    rows = [re.split(r"\s{2,}", line.strip(), maxsplit=3) for line in lines[1:5]]
    assert [(rule, location) for _, location, rule, _ in rows] == [(r, f"{s}!{c}") for r, s, c in MIXED]
    assert [severity for severity, *_ in rows] == ["warning", "error", "error", "warning"]
    assert rows[1][3] == "% Complete should be a number; found 'half'"
    assert lines[5:] == ["", "1 file checked: 0 valid, 1 with errors"]


def test_text_report_of_a_valid_file(folder: Path) -> None:
    result = pmo("validate", str(folder / "good.xlsx"))

    assert result.stdout.splitlines() == [f"{folder / 'good.xlsx'} (risk_log 2.0, PRJ-0001): valid", "",
                                          "1 file checked: 1 valid, 0 with errors"]


def test_json_report_has_exactly_the_documented_shape(folder: Path) -> None:
    result = pmo("validate", str(folder / "good.xlsx"), str(folder / "mixed.xlsx"), "--format", "json")

    document = json.loads(result.stdout)
    assert list(document) == ["files"]
    good, mixed = document["files"]
    assert list(good) == FILE_KEYS and list(mixed) == FILE_KEYS
    assert good == {"source": str(folder / "good.xlsx"), "template": "risk_log", "template_version": "2.0",
                    "project_id": "PRJ-0001", "valid": True, "errors": 0, "warnings": 0, "findings": []}
    assert (mixed["template"], mixed["valid"], mixed["errors"], mixed["warnings"]) == ("plan", False, 2, 2)
    assert all(list(item) == FINDING_KEYS for item in mixed["findings"])
    assert [(f["rule"], f["sheet"], f["cell"]) for f in mixed["findings"]] == MIXED
    assert mixed["findings"][1] == {"severity": "error", "rule": "type-invalid", "sheet": "Tasks", "cell": "H8",
                                    "message": "% Complete should be a number; found 'half'"}


def test_json_report_adds_the_expected_header_to_a_renamed_column(tmp_path: Path) -> None:
    def rename(workbook: object) -> None:
        workbook["Tasks"]["B1"] = "Task Nme"  # type: ignore[index]

    path = write(tmp_path / "renamed.xlsx", kind="plan", edit=rename)
    [item] = json.loads(pmo("validate", str(path), "--format", "json").stdout)["files"][0]["findings"]

    assert item == {"severity": "warning", "rule": "column-renamed", "sheet": "Tasks", "cell": "B1",
                    "message": "header 'Task Nme' read as 'Task Name'; rename it back to 'Task Name'",
                    "expected_header": "Task Name"}


@pytest.mark.parametrize(("names", "code"), [
    (["good.xlsx"], 0),
    (["warned.xlsx"], 0),  # warnings alone are not data problems
    (["mixed.xlsx"], 1),
    (["good.xlsx", "mixed.xlsx"], 1),
    (["nowhere.xlsx"], 1),  # a missing path is a finding about that file, not a usage error
])
def test_exit_code_is_one_when_some_file_has_an_error(folder: Path, names: list[str], code: int) -> None:
    assert pmo("validate", *(str(folder / name) for name in names)).exit_code == code


def test_a_glob_matching_nothing_is_a_usage_error_and_writes_nothing(folder: Path, tmp_path: Path) -> None:
    annotated = tmp_path / "annotated"
    result = pmo("validate", str(folder / "good.xlsx"), str(folder / "*.xlsm"), "--annotate", str(annotated))

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip() == f"pmo: no files match {folder / '*.xlsm'}"
    assert not annotated.exists()


def test_no_source_at_all_is_a_usage_error() -> None:
    assert pmo("validate").exit_code == 2


def test_globs_expand_in_sorted_order_and_recursively(folder: Path) -> None:
    flat = json.loads(pmo("validate", str(folder / "*.xlsx"), "--format", "json").stdout)["files"]
    deep = json.loads(pmo("validate", str(folder / "**" / "*.xlsx"), "--format", "json").stdout)["files"]

    assert [Path(f["source"]).name for f in flat] == ["good.xlsx", "mixed.xlsx", "warned.xlsx"]
    assert sorted(Path(f["source"]).name for f in deep) == ["deep.xlsx", "good.xlsx", "mixed.xlsx", "warned.xlsx"]


def test_month_first_reads_ambiguous_dates_the_american_way(tmp_path: Path) -> None:
    sample = small_sample()
    # day-first: 2 January to 1 February; month-first: 1 February to 2 January, a finish before its start
    sample.tables["tasks"][0].update(baseline_start="02/01/2026", baseline_finish="01/02/2026")
    path = write(tmp_path / "ambiguous.xlsx", sample, "plan")

    day_first = json.loads(pmo("validate", str(path), "--format", "json").stdout)["files"][0]["findings"]
    assert [(item["rule"], item["cell"], item["message"]) for item in day_first] == [
        ("date-ambiguous", "F2", "Baseline Start '02/01/2026' was read as 2026-01-02 (day first, this workbook's "
                                 "convention); read month first it would be 2026-02-01. Type the date as a date, or "
                                 "as 2026-03-04"),
        ("date-ambiguous", "G2", "Baseline Finish '01/02/2026' was read as 2026-02-01 (day first, this workbook's "
                                 "convention); read month first it would be 2026-01-02. Type the date as a date, or "
                                 "as 2026-03-04")]
    result = pmo("validate", str(path), "--month-first", "--format", "json")
    assert result.exit_code == 1
    findings = json.loads(result.stdout)["files"][0]["findings"]
    assert [(item["rule"], item["cell"]) for item in findings] == [
        ("date-ambiguous", "F2"), ("finish-before-start", "G2"), ("date-ambiguous", "G2")]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rgb(cell: object) -> str | None:
    fill = cell.fill  # type: ignore[attr-defined]
    return fill.fgColor.rgb[-6:] if fill is not None and fill.fill_type == "solid" else None


def test_annotate_writes_a_marked_up_copy_and_leaves_the_source_alone(folder: Path, tmp_path: Path) -> None:
    source = folder / "mixed.xlsx"
    before = _digest(source)
    annotated = tmp_path / "checked"

    result = pmo("validate", str(source), "--annotate", str(annotated))

    assert result.exit_code == 1
    assert _digest(source) == before
    copy = load_workbook(annotated / "mixed.xlsx")
    tasks = copy["Tasks"]
    assert _rgb(tasks["H8"]) == ERROR_FILL
    assert _rgb(tasks["I6"]) == WARNING_FILL
    assert _rgb(tasks["E13"]) == ERROR_FILL  # an error's red wins over a warning's amber in the same cell
    assert _rgb(tasks["H7"]) is None and _rgb(tasks["A2"]) is None
    assert "[type-invalid]" in tasks["H8"].comment.text and "found 'half'" in tasks["H8"].comment.text
    assert "[finish-before-start]" in tasks["E13"].comment.text
    assert "[task-outside-project]" in tasks["E13"].comment.text
    assert tasks["H7"].comment is None


def test_the_issues_sheet_links_each_finding_to_its_cell(folder: Path, tmp_path: Path) -> None:
    pmo("validate", str(folder / "mixed.xlsx"), "--annotate", str(tmp_path))
    copy = load_workbook(tmp_path / "mixed.xlsx")

    assert copy.sheetnames[0] == "Issues"
    issues = copy["Issues"]
    rows = list(issues.iter_rows(values_only=True))
    assert rows[0] == ("Severity", "Cell", "Rule", "Message", "How to fix")
    assert [(rule, cell) for _, cell, rule, _, _ in rows[1:]] == [(r, f"{s}!{c}") for r, s, c in MIXED]
    for row in range(2, len(rows) + 1):
        link = issues.cell(row, 2).hyperlink
        assert link is not None
        assert link.location == issues.cell(row, 2).value  # an internal link to Tasks!H8, ...
        assert link.target is None  # not an external file


def test_the_annotated_copy_still_validates_to_the_same_findings(folder: Path, tmp_path: Path) -> None:
    pmo("validate", str(folder / "mixed.xlsx"), "--annotate", str(tmp_path))

    assert found(tmp_path / "mixed.xlsx") == MIXED


def test_annotate_skips_files_it_cannot_read_and_refuses_to_overwrite_a_source(folder: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really")
    good = folder / "good.xlsx"
    before = _digest(good)

    result = pmo("validate", str(broken), str(good), "--annotate", str(folder))

    assert _digest(good) == before
    assert f"the annotated copy of {good} would overwrite it" in result.stderr
    assert not (folder / "broken.xlsx").exists()
    assert result.exit_code == 2  # a usage error: nothing written, no report
    assert result.stdout == ""


def test_a_copy_that_cannot_be_written_is_reported_and_exits_2(folder: Path, tmp_path: Path) -> None:
    impossible = tmp_path / ("c" * 300)  # a folder name no file system takes (chmod would not stop root)

    result = pmo("validate", str(folder / "good.xlsx"), "--annotate", str(impossible))

    assert result.exit_code == 2
    assert result.stderr == f"pmo: cannot write annotated copy of {folder / 'good.xlsx'}: File name too long ({impossible})\n"
    assert "1 file checked: 1 valid" in result.stdout  # the report itself is still printed


def test_annotate_into_a_file_is_a_usage_error_and_writes_nothing(folder: Path, tmp_path: Path) -> None:
    not_a_folder = tmp_path / "checked"
    not_a_folder.write_text("a file where the folder should be")

    result = pmo("validate", str(folder / "good.xlsx"), "--annotate", str(not_a_folder))

    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"pmo: --annotate {not_a_folder}: not a folder\n"
    assert not_a_folder.read_text() == "a file where the folder should be"


def test_annotate_says_where_it_wrote_the_copies(folder: Path, tmp_path: Path) -> None:
    one = pmo("validate", str(folder / "good.xlsx"), "--annotate", str(tmp_path / "one"))
    two = pmo("validate", str(folder / "good.xlsx"), str(folder / "mixed.xlsx"), "--annotate", str(tmp_path / "two"))
    as_json = pmo("validate", str(folder / "good.xlsx"), "--annotate", str(tmp_path / "json"), "--format", "json")

    assert one.stdout.splitlines()[-1] == f"wrote the annotated copy {tmp_path / 'one' / 'good.xlsx'}"
    assert two.stdout.splitlines()[-1] == f"wrote 2 annotated copies to {tmp_path / 'two'}"
    assert json.loads(as_json.stdout)["files"][0]["valid"] is True  # stdout stays one JSON document
    assert as_json.stderr == f"wrote the annotated copy {tmp_path / 'json' / 'good.xlsx'}\n"
