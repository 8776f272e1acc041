"""Files that are not readable project workbooks: one file-level finding and a one-line message, no traceback."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import msoffcrypto.format.ooxml
import pytest
import xlwt
from openpyxl import Workbook
from typer.testing import CliRunner

from pmo_sheets.cli import app
from pmo_sheets.templates import template_path

BAD_FILE_CODES = ["file-missing", "file-empty", "file-corrupt", "file-encrypted", "file-legacy-xls", "file-not-workbook",
                  "file-special", "file-too-large", "file-suspicious",  # tests/test_hostile_files.py
                  "not-a-template"]


def truncated_workbook(path: Path) -> None:
    data = template_path("plan").read_bytes()
    path.write_bytes(data[: len(data) // 2])


def damaged_part(path: Path) -> None:
    """A sound zip whose workbook part is garbage."""
    with zipfile.ZipFile(template_path("plan")) as source, zipfile.ZipFile(path, "w") as target:
        for name in source.namelist():
            target.writestr(name, b"<workbook><sheets" if name == "xl/workbook.xml" else source.read(name))


def encrypted_workbook(path: Path) -> None:
    with open(template_path("plan"), "rb") as plain, open(path, "wb") as out:
        msoffcrypto.format.ooxml.OOXMLFile(plain).encrypt("s3cret", out)


def legacy_xls(path: Path) -> None:
    book = xlwt.Workbook()
    sheet = book.add_sheet("Tasks")
    for col, header in enumerate(("Task ID", "Task Name", "Start", "Finish")):
        sheet.write(0, col, header)
    sheet.write(1, 0, "1.1")
    sheet.write(1, 1, "Design")
    book.save(str(path))


def csv_file(path: Path) -> None:
    path.write_text("Task ID,Task Name,Start,Finish\n1.1,Design,2026-03-02,2026-03-13\n", encoding="utf-8")


def empty_file(path: Path) -> None:
    path.write_bytes(b"")


def zip_not_workbook(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "not a spreadsheet")


def text_named_xlsx(path: Path) -> None:
    path.write_text("hello", encoding="utf-8")


def other_workbook(path: Path) -> None:
    book = Workbook()
    book.active.title = "Expenses"
    book.active.append(["Date", "Amount"])
    book.active.append(["2026-03-02", 120])
    book.save(path)


def folder(path: Path) -> None:
    path.mkdir()


BAD_FILES: list[tuple[str, str, Callable[[Path], None] | None, str]] = [
    # (name, file name, how to make it, code)
    ("corrupt-zip", "truncated.xlsx", truncated_workbook, "file-corrupt"),
    ("damaged-part", "damaged.xlsx", damaged_part, "file-corrupt"),
    ("password-protected", "locked.xlsx", encrypted_workbook, "file-encrypted"),
    ("legacy-xls", "old.xls", legacy_xls, "file-legacy-xls"),
    ("legacy-xls-renamed", "old-renamed.xlsx", legacy_xls, "file-legacy-xls"),
    ("csv", "plan.csv", csv_file, "file-not-workbook"),
    ("empty", "empty.xlsx", empty_file, "file-empty"),
    ("missing", "nowhere.xlsx", None, "file-missing"),
    ("zip-not-workbook", "archive.xlsx", zip_not_workbook, "file-not-workbook"),
    ("text-named-xlsx", "notes.xlsx", text_named_xlsx, "file-not-workbook"),
    ("folder", "folder.xlsx", folder, "file-not-workbook"),
    ("not-our-template", "expenses.xlsx", other_workbook, "not-a-template"),
]


def make(tmp_path: Path, file_name: str, maker: Callable[[Path], None] | None) -> Path:
    path = tmp_path / file_name
    if maker is not None:
        maker(path)
    return path


@pytest.mark.parametrize(("file_name", "maker", "code"), [case[1:] for case in BAD_FILES],
                         ids=[case[0] for case in BAD_FILES])
def test_a_bad_file_gives_one_file_level_finding(tmp_path: Path, file_name: str,
                                                 maker: Callable[[Path], None] | None, code: str) -> None:
    path = make(tmp_path, file_name, maker)

    result = CliRunner().invoke(app, ["validate", str(path), "--format", "json"])

    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    [file] = json.loads(result.stdout)["files"]
    assert (file["valid"], file["errors"], file["warnings"]) == (False, 1, 0)
    [item] = file["findings"]
    assert (item["severity"], item["rule"], item["sheet"], item["cell"]) == ("error", code, None, None)
    assert item["message"] and "\n" not in item["message"]


@pytest.mark.parametrize(("file_name", "maker", "code"), [case[1:] for case in BAD_FILES],
                         ids=[case[0] for case in BAD_FILES])
def test_the_text_report_names_the_file_and_the_problem_in_one_line(
        tmp_path: Path, file_name: str, maker: Callable[[Path], None] | None, code: str) -> None:
    path = make(tmp_path, file_name, maker)

    result = CliRunner().invoke(app, ["validate", str(path)])

    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"{path}: 1 error"
    assert lines[1].split()[:3] == ["error", "(file)", code]
    assert lines[2:] == ["", "1 file checked: 0 valid, 1 with errors"]


def test_the_messages_say_what_to_do(tmp_path: Path) -> None:
    """The one-line messages are specific enough to act on."""
    expected_words = {"password-protected": "password", "legacy-xls": ".xlsx", "csv": "CSV", "empty": "empty",
                      "missing": "not found", "corrupt-zip": "damaged"}
    cases = {case[0]: case for case in BAD_FILES}
    paths = [make(tmp_path, cases[name][1], cases[name][2]) for name in expected_words]

    result = CliRunner().invoke(app, ["validate", *map(str, paths), "--format", "json"])

    files = json.loads(result.stdout)["files"]
    assert [f["source"] for f in files] == [str(p) for p in paths]
    for (name, word), file in zip(expected_words.items(), files, strict=True):
        assert word in file["findings"][0]["message"], name


def test_a_bad_file_does_not_stop_the_others_from_being_checked(tmp_path: Path) -> None:
    from workbooks import write

    good = write(tmp_path / "good.xlsx", kind="risk_log")
    bad = make(tmp_path, "truncated.xlsx", truncated_workbook)

    result = CliRunner().invoke(app, ["validate", str(bad), str(good), "--format", "json"])

    files = json.loads(result.stdout)["files"]
    assert [(f["source"], f["valid"]) for f in files] == [(str(bad), False), (str(good), True)]
    assert result.exit_code == 1


def test_the_encrypted_copy_really_is_encrypted(tmp_path: Path) -> None:
    """Guards the password test: msoffcrypto produced a file that needs the password to open."""
    path = make(tmp_path, "locked.xlsx", encrypted_workbook)
    with open(path, "rb") as handle:
        office = msoffcrypto.OfficeFile(handle)
        assert office.is_encrypted()
        office.load_key(password="s3cret")
        plain = io.BytesIO()
        office.decrypt(plain)
    assert zipfile.ZipFile(plain).read("xl/workbook.xml")
