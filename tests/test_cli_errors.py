"""Every ``pmo`` command, asked something impossible, answers with one clear line and the documented exit code.

The sweep runs each case in-process through typer's ``CliRunner`` (an exception other than an exit
fails the case: that would have been a traceback), and the cases marked ``real`` again as the real
command line in a subprocess (``python -m pmo_sheets.cli``, what the ``pmo`` script runs, with
``PMO_TRACEBACK=1`` so that an unexpected exception would show as one; a subprocess costs about a
second on a busy machine, so not every case gets one). Each runs inside a folder of hostile paths:
a file where a folder is expected, a folder where a file is expected, a FIFO, a name too long for the
file system (tests may run as root, where chmod stops no write, so impossible paths stand in for
read-only ones), configurations that are not UTF-8, not TOML or mistyped. For each case it checks
the exit code (2: usage or configuration error, and then nothing at all is written; 1: data
problems), the exact line on stderr, and that no traceback appears anywhere.

To add a case, add a :class:`Case` to :data:`CASES`; ``{tmp}`` in its arguments and messages stands
for the hostile folder, which is also the working directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmo_sheets import __version__
from pmo_sheets.cli import app
from pmo_sheets.samples import sample_project, write_workbook

LONG = "n" * 300  # longer than any file system allows a name to be
CONFIG_HEAD = 'name = "Hostile"\nreporting_currency = "USD"\nmaster = "master.xlsx"\nstate = "pmo.sqlite"\n'
# The sync lock file beside the state store is never deleted (pmo_sheets/lock.py): it is not what a sync writes.
LOCK_FILE = "pmo.sqlite.lock"
EXCEL_GLOB = '[[sources]]\nkind = "excel"\npath = "projects/*.xlsx"\n'


@dataclass(frozen=True)
class Case:
    """One command line and what it must answer."""

    name: str
    args: tuple[str, ...]
    code: int
    stderr: str  # the exact stderr, one line without its newline ("" for none)
    stdout_has: str = ""  # for exit code 1: a piece of the report
    real: bool = False  # also run as a real subprocess


CASES = [
    # the program itself
    Case("no-command", (), 2, "pmo: choose one of the commands above", stdout_has="Commands", real=True),
    Case("unknown-command", ("frobnicate",), 2, "pmo: No such command 'frobnicate' (see pmo --help)"),
    Case("unknown-global-option", ("--bogus",), 2, "pmo: No such option: --bogus (see pmo --help)"),
    # pmo new
    Case("new-without-kind", ("new",), 2, "pmo new: Missing argument 'kind' (see pmo new --help)"),
    Case("new-without-project-id", ("new", "plan", "--name", "X"), 2,
         "pmo new: Missing option '--project-id' (see pmo new --help)", real=True),
    Case("new-unknown-option", ("new", "plan", "--project-id", "PRJ-1", "--name", "X", "--colour", "red"), 2,
         "pmo new: No such option: --colour (see pmo new --help)"),
    Case("new-extra-argument", ("new", "plan", "extra", "--project-id", "PRJ-1", "--name", "X"), 2,
         "pmo new: Got unexpected extra argument(s) (extra) (see pmo new --help)"),
    Case("new-unknown-kind", ("new", "portfolio", "--project-id", "PRJ-1", "--name", "X"), 2,
         "pmo: unknown kind 'portfolio'; choose one of project, plan, budget, risk_log"),
    Case("new-bad-project-id", ("new", "plan", "--project-id", "PRJ 1", "--name", "X"), 2,
         "pmo: Project ID 'PRJ 1' is not a valid Project ID such as PRJ-0042"),
    Case("new-project-id-is-a-path", ("new", "plan", "--project-id", "../PRJ-1", "--name", "X"), 2,
         "pmo: Project ID '../PRJ-1' is not a valid Project ID such as PRJ-0042"),
    Case("new-blank-name", ("new", "plan", "--project-id", "PRJ-1", "--name", " "), 2,
         "pmo: Project Name is required but blank"),
    Case("new-not-a-date", ("new", "plan", "--project-id", "PRJ-1", "--name", "X", "--start", "31/13/2026"), 2,
         "pmo: Start Date should be a date such as 2026-03-31; found '31/13/2026'"),
    Case("new-finish-before-start", ("new", "plan", "--project-id", "PRJ-1", "--name", "X",
                                     "--start", "1 May 2026", "--finish", "2026-04-30"), 2,
         "pmo: Finish Date 2026-04-30 is before Start Date 2026-05-01"),
    Case("new-output-not-xlsx", ("new", "plan", "--project-id", "PRJ-1", "--name", "X", "-o", "plan.xls"), 2,
         "pmo: plan.xls: a workbook's file name must end in .xlsx"),
    Case("new-output-exists", ("new", "plan", "--project-id", "PRJ-1", "--name", "X", "-o", "taken.xlsx"), 2,
         "pmo: taken.xlsx already exists; choose another name"),
    Case("new-output-is-a-folder", ("new", "plan", "--project-id", "PRJ-1", "--name", "X", "-o", "folder"), 2,
         "pmo: folder is a folder; give the workbook's file name, ending in .xlsx"),
    Case("new-output-folder-missing", ("new", "plan", "--project-id", "PRJ-1", "--name", "X", "-o", "nowhere/a.xlsx"), 2,
         "pmo: folder nowhere does not exist; create it first, or choose another"),
    Case("new-output-parent-is-a-file", ("new", "plan", "--project-id", "PRJ-1", "--name", "X", "-o", "file/a.xlsx"), 2,
         "pmo: file is not a folder", real=True),
    Case("new-output-name-too-long", ("new", "plan", "--project-id", "PRJ-1", "--name", "X", "-o", f"{LONG}.xlsx"), 2,
         f"pmo: cannot write {LONG}.xlsx (File name too long)"),
    # pmo templates
    Case("templates-check-missing-folder", ("templates", "--check", "--dir", "nowhere"), 2,
         "pmo: --dir nowhere: no such folder"),
    Case("templates-into-a-file", ("templates", "--dir", "file"), 2, "pmo: --dir file: not a folder", real=True),
    # pmo lite
    Case("lite-without-folder", ("lite",), 2, "pmo lite: Missing argument 'directory' (see pmo lite --help)"),
    Case("lite-into-a-file", ("lite", "file"), 2, "pmo: file is not a folder"),
    Case("lite-under-a-file", ("lite", "file/code"), 2, "pmo: cannot write file/code (Not a directory)", real=True),
    Case("lite-name-too-long", ("lite", LONG), 2, f"pmo: cannot write {LONG} (File name too long)"),
    # pmo validate
    Case("validate-nothing", ("validate",), 2, "pmo validate: Missing argument 'sources' (see pmo validate --help)"),
    Case("validate-glob-matching-nothing", ("validate", "projects/*.xlsm"), 2, "pmo: no files match projects/*.xlsm"),
    Case("validate-unknown-format", ("validate", "projects/PRJ-0001.xlsx", "--format", "xml"), 2,
         "pmo validate: Invalid value for '--format': Value error, 'xml' is not one of 'text', 'json' "
         "(see pmo validate --help)"),
    Case("validate-annotate-without-folder", ("validate", "projects/PRJ-0001.xlsx", "--annotate"), 2,
         "pmo validate: Option '--annotate' requires an argument (see pmo validate --help)", real=True),
    Case("validate-annotate-into-a-file", ("validate", "projects/PRJ-0001.xlsx", "--annotate", "file"), 2,
         "pmo: --annotate file: not a folder"),
    Case("validate-a-text-file", ("validate", "file"), 1, "", stdout_has="file-not-workbook", real=True),
    Case("validate-a-folder", ("validate", "folder"), 1, "", stdout_has="folder: is a folder, not a workbook"),
    Case("validate-a-missing-file", ("validate", "nowhere.xlsx"), 1, "", stdout_has="nowhere.xlsx: file not found"),
    # pmo sync
    Case("sync-without-config", ("sync",), 2, "pmo sync: Missing option '--config' / '-c' (see pmo sync --help)"),
    Case("sync-missing-config", ("sync", "-c", "nowhere.toml"), 2,
         "pmo: nowhere.toml: cannot read the configuration (No such file or directory)"),
    Case("sync-config-is-a-folder", ("sync", "-c", "folder"), 2, "pmo: folder: not a file; give the path of portfolio.toml"),
    Case("sync-config-is-a-fifo", ("sync", "-c", "fifo"), 2, "pmo: fifo: not a file; give the path of portfolio.toml"),
    Case("sync-config-name-too-long", ("sync", "-c", LONG), 2,
         f"pmo: {LONG}: cannot read the configuration (File name too long)"),
    Case("sync-config-not-utf8", ("sync", "-c", "latin1.toml"), 2,
         "pmo: latin1.toml: not UTF-8 text (line 1 has the byte 0xe9); save it as UTF-8", real=True),
    Case("sync-config-not-toml", ("sync", "-c", "broken.toml"), 2,
         "pmo: broken.toml: not valid TOML (Invalid value (at line 1, column 8))"),
    Case("sync-config-typo-in-sources", ("sync", "-c", "typo.toml"), 2,
         "pmo: {tmp}/typo.toml: sources[0]: unknown key 'pth' (did you mean 'path'?)"),
    Case("sync-config-unknown-source-kind", ("sync", "-c", "kind.toml"), 2,
         "pmo: {tmp}/kind.toml: sources[0].kind: 'exel' is not a source kind (excel, google_sheet or google_folder)"),
    Case("sync-config-missing-fx-rate", ("sync", "-c", "no-fx.toml"), 2,
         "pmo: {tmp}/no-fx.toml: [fx] has no rate for GBP (used by PRJ-0001); add one, in USD per unit; "
         "nothing was written", real=True),
    Case("sync-unknown-format", ("sync", "-c", "typo.toml", "--format", "xml"), 2,
         "pmo sync: Invalid value for '--format': Value error, 'xml' is not one of 'text', 'json' (see pmo sync --help)"),
    # pmo upgrade
    Case("upgrade-nothing", ("upgrade",), 2, "pmo upgrade: Missing argument 'files' (see pmo upgrade --help)"),
    Case("upgrade-without-a-destination", ("upgrade", "projects/PRJ-0001.xlsx"), 2,
         "pmo upgrade: say where the upgraded workbooks go: -o DIR, or --in-place to replace them "
         "(with --backup to keep the originals)"),
    Case("upgrade-a-current-workbook", ("upgrade", "projects/PRJ-0001.xlsx", "-o", "folder"), 2,
         "pmo upgrade: projects/PRJ-0001.xlsx: already at template version 2.0, the current one; nothing to upgrade",
         real=True),
    Case("upgrade-a-text-file", ("upgrade", "file", "--in-place"), 2,
         "pmo upgrade: file: not an Excel workbook; save it as an Excel workbook (.xlsx)"),
    Case("upgrade-a-fifo", ("upgrade", "fifo", "-o", "folder"), 2,
         "pmo upgrade: fifo: is a named pipe (FIFO), not a workbook file; it was not opened"),
    Case("upgrade-glob-matching-nothing", ("upgrade", "projects/*.xlsm", "-o", "folder"), 2,
         "pmo upgrade: no files match projects/*.xlsm"),
    # pmo rules
    Case("rules-extra-argument", ("rules", "extra"), 2,
         "pmo rules: Got unexpected extra argument(s) (extra) (see pmo rules --help)", real=True),
    # pmo demo
    Case("demo-no-projects", ("demo", "--projects", "0"), 2,
         "pmo demo: Invalid value for '--projects': Input should be greater than or equal to 1 (see pmo demo --help)"),
    Case("demo-projects-not-a-number", ("demo", "--projects", "many"), 2,
         "pmo demo: Invalid value for '--projects': Input should be a valid integer, unable to parse string as an integer "
         "(see pmo demo --help)"),
    Case("demo-into-a-file", ("demo", "--dir", "file"), 2, "pmo: file is not a folder; choose another --dir"),
    Case("demo-under-a-file", ("demo", "--dir", "file/demo"), 2,
         "pmo: cannot prepare file/demo for the demo (Not a directory)", real=True),
    Case("demo-into-someone-elses-folder", ("demo", "--dir", "projects"), 2,
         "pmo: projects is not empty and holds no earlier demo; choose another --dir"),
]


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid project workbook in GBP (made once: the sweep copies it)."""
    return write_workbook(sample_project(1, currency="GBP", tasks=5, budget_lines=1, months=1, risks=1),
                          tmp_path_factory.mktemp("workbook") / "PRJ-0001.xlsx")


@pytest.fixture
def hostile(tmp_path: Path, workbook: Path) -> Path:
    """A folder of awkward paths and broken configurations."""
    (tmp_path / "file").write_text("a file where a folder is expected\n")
    (tmp_path / "folder").mkdir()
    (tmp_path / "taken.xlsx").write_bytes(b"someone's work")
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "projects").mkdir()
    shutil.copy(workbook, tmp_path / "projects" / "PRJ-0001.xlsx")
    (tmp_path / "latin1.toml").write_bytes('name = "Caf\u00e9"\n'.encode("latin-1"))
    (tmp_path / "broken.toml").write_text("name = \n")
    (tmp_path / "typo.toml").write_text(CONFIG_HEAD + '[[sources]]\nkind = "excel"\npth = "projects/*.xlsx"\n')
    (tmp_path / "kind.toml").write_text(CONFIG_HEAD + '[[sources]]\nkind = "exel"\npath = "projects/*.xlsx"\n')
    (tmp_path / "no-fx.toml").write_text(CONFIG_HEAD + EXCEL_GLOB)
    return tmp_path


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``root`` with its size and modification time: what "nothing written" compares."""
    return {str(path.relative_to(root)): (path.lstat().st_size, path.lstat().st_mtime_ns) for path in root.rglob("*")
            if path.name != LOCK_FILE}


def run_pmo(args: tuple[str, ...], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real command line, as the ``pmo`` script runs it; an unexpected exception would print its traceback."""
    environment = {**os.environ, "PMO_TRACEBACK": "1", "COLUMNS": "80"}
    return subprocess.run([sys.executable, "-m", "pmo_sheets.cli", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=60, check=False)


def check_answer(case: Case, code: int, stdout: str, stderr: str, folder: Path, before: dict[str, tuple[int, int]]) -> None:
    """What every case must show: no traceback, its exit code and line, and nothing written on a usage error."""
    assert "Traceback" not in stdout + stderr
    assert (code, stderr) == (case.code, case.stderr.format(tmp=folder) + "\n" * bool(case.stderr))
    if case.code == 2:
        assert snapshot(folder) == before  # nothing written, not even a state store
        assert stdout == "" or case.stdout_has in stdout
    else:
        assert case.stdout_has in stdout


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_every_command_answers_a_bad_request_with_one_line_and_its_exit_code(
        case: Case, hostile: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(hostile)
    before = snapshot(hostile)

    result = CliRunner().invoke(app, [arg.format(tmp=hostile) for arg in case.args], prog_name="pmo")

    assert isinstance(result.exception, SystemExit), result.exception  # anything else would be a traceback
    check_answer(case, result.exit_code, result.stdout, result.stderr, hostile, before)


REAL = [case for case in CASES if case.real]


@pytest.mark.parametrize("case", REAL, ids=[case.name for case in REAL])
def test_the_real_command_answers_a_bad_request_with_one_line_and_its_exit_code(case: Case, hostile: Path) -> None:
    before = snapshot(hostile)

    result = run_pmo(tuple(arg.format(tmp=hostile) for arg in case.args), hostile)

    check_answer(case, result.returncode, result.stdout, result.stderr, hostile, before)


def test_pmo_version_prints_the_package_version(tmp_path: Path) -> None:
    result = run_pmo(("--version",), tmp_path)

    assert (result.returncode, result.stdout, result.stderr) == (0, f"pmo-sheets {__version__}\n", "")


def test_an_unexpected_error_is_one_line_asking_for_a_report(tmp_path: Path) -> None:
    # A bug stands in as a template folder that makes the schema loader fail in a way nobody planned for.
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "project.schema.json").write_text("{not json")
    environment = {key: value for key, value in os.environ.items() if key != "PMO_TRACEBACK"}
    environment["PMO_SCHEMA_DIR"] = str(tmp_path / "schemas")

    result = subprocess.run([sys.executable, "-m", "pmo_sheets.cli", "new", "plan", "--project-id", "PRJ-1", "--name", "X"],
                            cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=60, check=False)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("pmo: internal error (JSONDecodeError: ")
    assert line.endswith("please report it with the command you ran (PMO_TRACEBACK=1 shows where it happened)")


def test_the_command_line_without_its_extra_says_which_to_install(tmp_path: Path) -> None:
    # `pip install pmo-sheets` alone brings the library; typer comes with the cli extra.
    code = "import sys; sys.modules['typer'] = None; import runpy; runpy.run_module('pmo_sheets.cli', run_name='__main__')"

    result = subprocess.run([sys.executable, "-c", code, "--help"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60, check=False)

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == ('pmo: the command line needs the cli extra: pip install "pmo-sheets[cli]" '
                             "(typer is not installed)\n")
