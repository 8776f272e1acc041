"""Hostile and special files are refused with one file-level finding, before any parser or blocking open.

Zip bombs are generated here and kept small on disk (a few hundred KB); each test runs the real
reader or the real command, in a subprocess with a timeout where a regression would hang.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from portfolio_fixtures import make_portfolio
from workbooks import small_sample, write

from pmo_sheets.grid import SourceError
from pmo_sheets.readers.excel import read_excel
from pmo_sheets.readers.limits import MiB, ReadLimits
from pmo_sheets.samples import lying_zip_bomb, zip_bomb
from pmo_sheets.sync import run_sync

HANG_GUARD = 60  # seconds: a FIFO that is opened blocks forever; the test fails instead of hanging


def bomb(path: Path, *, unpacked_mb: int = 64) -> Path:
    return zip_bomb(path, unpacked_mb=unpacked_mb)


def lying_bomb(path: Path) -> Path:
    """A part that declares 1,000 bytes unpacked and inflates to 8 MB."""
    return lying_zip_bomb(path, unpacked_mb=8, declared_bytes=1000)


def refusal(path: Path, limits: ReadLimits | None = None) -> SourceError:
    with pytest.raises(SourceError) as caught:
        read_excel(path, **({"limits": limits} if limits else {}))
    return caught.value


def test_a_zip_bomb_is_refused_from_its_directory_before_anything_is_inflated(tmp_path: Path) -> None:
    path = bomb(tmp_path / "bomb.xlsx")
    assert path.stat().st_size < 2 * MiB

    error = refusal(path)

    assert error.code == "file-suspicious"
    assert "xl/worksheets/sheet99.xml would unpack to 64 MB" in error.message
    assert "refused as a likely zip bomb" in error.message


def test_a_part_that_inflates_past_what_its_directory_declares_is_refused(tmp_path: Path) -> None:
    error = refusal(lying_bomb(tmp_path / "lying.xlsx"))

    assert error.code == "file-suspicious"
    assert "unpacks to more than the 1000 bytes its archive declares" in error.message


def test_limits_are_configurable_and_name_their_key(tmp_path: Path) -> None:
    path = write(tmp_path / "plan.xlsx", small_sample(), "plan")

    error = refusal(path, ReadLimits(max_part_bytes=1000))

    assert error.code == "file-too-large"
    assert "([limits] max_part_mb)" in error.message


def test_a_portfolio_limit_makes_a_big_workbook_unreadable_in_the_sync(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=1, extra="[limits]\nmax_unpacked_mb = 0.01\n")

    result = run_sync(config)

    assert [(o.state.status, o.state.findings[0]["rule"]) for o in result.outcomes] == [
        ("unreadable, never valid", "file-too-large")]


def test_the_add_ins_reader_refuses_a_bomb_as_the_command_does(tmp_path: Path) -> None:
    """openpyxl is the reader where calamine is missing (Pyodide, xlwings Lite): the same guard runs first."""
    path = bomb(tmp_path / "bomb.xlsx")

    with pytest.raises(SourceError) as caught:
        read_excel(path, engine="openpyxl")

    assert caught.value.code == "file-suspicious"
    assert caught.value.message == refusal(path).message


def test_a_sync_with_a_bomb_among_the_workbooks_refuses_it_and_consolidates_the_rest(tmp_path: Path) -> None:
    config, samples = make_portfolio(tmp_path, count=2)
    bomb(tmp_path / "projects" / "zz-bomb.xlsx")

    result = run_sync(config)

    by_label = {o.source.label: o for o in result.outcomes}
    assert by_label["projects/zz-bomb.xlsx"].state.status == "unreadable, never valid"
    assert [f["rule"] for f in by_label["projects/zz-bomb.xlsx"].state.findings] == ["file-suspicious"]
    assert sorted(o.state.project_id for o in result.outcomes if o.state.status == "ok") == sorted(
        s.project_id for s in samples)
    portfolio = openpyxl.load_workbook(config.master, read_only=True)["Portfolio"]
    assert [row[0] for row in portfolio.iter_rows(min_row=2, values_only=True) if row[0]] == [
        *sorted(s.project_id for s in samples), "Total"]


def test_pmo_validate_takes_its_limits_from_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path / "plan.xlsx", small_sample(), "plan")

    tight = pmo_validate(path, env={"PMO_LIMITS_MAX_UNPACKED_MB": "0.01"})
    default = pmo_validate(path)

    assert tight.returncode == 1 and '"rule": "file-too-large"' in tight.stdout
    assert "([limits] max_unpacked_mb)" in tight.stdout
    assert default.returncode == 0, default.stdout


def test_a_bad_limit_in_the_environment_is_one_line_naming_the_variable(tmp_path: Path) -> None:
    path = write(tmp_path / "plan.xlsx", small_sample(), "plan")

    for variable, value, message in (
            ("PMO_LIMITS_MAX_PARTS", "lots", "pmo: PMO_LIMITS_MAX_PARTS='lots': not a whole number\n"),
            ("PMO_LIMITS_MAX_PART_MB", "-1", "pmo: PMO_LIMITS_MAX_PART_MB='-1': Largest part once unpacked, a sheet's "
                                             "XML for instance (default 64).; must be more than 0\n"),
            ("PMO_LIMITS_MAX_PART", "9", "pmo: PMO_LIMITS_MAX_PART: unknown limit (did you mean PMO_LIMITS_MAX_PARTS?)")):
        result = pmo_validate(path, env={variable: value})
        assert result.returncode == 2
        assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr


def test_a_limit_in_portfolio_toml_wins_over_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pmo_sheets.config import load_config

    config, _ = make_portfolio(tmp_path, count=1, extra="[limits]\nmax_parts = 500\n")
    monkeypatch.setenv("PMO_LIMITS_MAX_PARTS", "20")
    monkeypatch.setenv("PMO_LIMITS_MAX_RATIO", "50")

    limits = load_config(config.path).limits

    assert (limits.max_parts, limits.max_ratio) == (500, 50)


def pmo_validate(*paths: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PMO_LIMITS_")} | (env or {})
    return subprocess.run([sys.executable, "-c", "from pmo_sheets.cli import main; main()", "validate", *map(str, paths),
                           "--format", "json"], capture_output=True, text=True, timeout=HANG_GUARD, check=False,
                          env=environment)


def test_pmo_validate_refuses_a_bomb_and_a_named_pipe_in_one_run(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe.xlsx"
    os.mkfifo(pipe)

    result = pmo_validate(bomb(tmp_path / "bomb.xlsx"), pipe)

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert '"rule": "file-suspicious"' in result.stdout
    assert '"rule": "file-special"' in result.stdout
    assert "is a named pipe (FIFO), not a workbook file; it was not opened" in result.stdout


def test_a_socket_named_like_a_workbook_is_not_opened(tmp_path: Path) -> None:
    path = tmp_path / "s.xlsx"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        error = refusal(path)
    assert (error.code, error.message) == ("file-special", f"{path}: is a socket, not a workbook file; it was not opened")


def test_a_sync_with_a_named_pipe_among_the_workbooks_finishes_and_reports_it(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=2)
    os.mkfifo(tmp_path / "projects" / "zz-pipe.xlsx")

    result = subprocess.run([sys.executable, "-c", "from pmo_sheets.cli import main; main()", "sync", "-c",
                             str(config.path), "--format", "json"], capture_output=True, text=True, timeout=HANG_GUARD,
                            check=False)

    assert result.returncode == 1, result.stderr
    assert '"source": "projects/zz-pipe.xlsx"' in result.stdout
    assert '"rule": "file-special"' in result.stdout
    assert config.master.exists()


def test_a_link_that_loops_on_itself_is_reported_not_followed(tmp_path: Path) -> None:
    loop = tmp_path / "x.xlsx"
    loop.symlink_to(loop)

    error = refusal(loop)

    assert error.code == "file-missing"
    assert "loops back on itself" in error.message


def loops(root: Path) -> Path:
    """A projects folder with links that loop: two links to the folder itself and one to its parent."""
    projects = root / "projects"
    (projects / "2026").mkdir(parents=True)
    write(projects / "2026" / "PRJ-0001.xlsx", small_sample(), "plan")
    (projects / "a").symlink_to(".")
    (projects / "b").symlink_to(".")
    (projects / "2026" / "up").symlink_to("..")
    (projects / "self.xlsx").symlink_to(projects / "self.xlsx")
    return projects


def test_links_that_loop_never_hang_or_abort_discovery(tmp_path: Path) -> None:
    from pmo_sheets.discovery import discover_excel

    loops(tmp_path)

    found = discover_excel("projects/**/*.xlsx", tmp_path)

    assert sorted({source.label for source in found}) == ["projects/2026/PRJ-0001.xlsx", "projects/self.xlsx"]


def test_pmo_validate_on_a_glob_through_looping_links_reports_the_loop_and_checks_the_rest(tmp_path: Path) -> None:
    projects = loops(tmp_path)

    result = pmo_validate(Path(f"{projects}/**/*.xlsx"))

    assert "Traceback" not in result.stderr
    assert '"rule": "file-missing"' in result.stdout and "loops back on itself" in result.stdout
    assert result.stdout.count('"template": "plan"') == 1  # PRJ-0001.xlsx once, however many links lead to it


def test_a_glob_over_a_huge_tree_stops_at_the_limit_with_one_line(tmp_path: Path) -> None:
    from pmo_sheets.discovery import DiscoveryLimitError, safe_glob

    for number in range(30):
        (tmp_path / f"folder{number}").mkdir()
    seen: list[int] = []

    with pytest.raises(DiscoveryLimitError, match=r"stopped after looking at 30 files and folders \(the limit is 25,"):
        safe_glob(f"{tmp_path}/**/*.xlsx", limit=25, progress=seen.append)
    assert seen == []  # progress comes every 10,000


def test_a_double_star_does_not_enter_the_pseudo_file_systems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pmo_sheets import discovery

    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "x.xlsx").touch()
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "y.xlsx").touch()
    monkeypatch.setattr(discovery, "PSEUDO_ROOTS", (str(tmp_path / "proc"),))  # /proc itself is too big to walk here

    assert discovery.safe_glob(f"{tmp_path}/**/*.xlsx") == [f"{tmp_path}/real/y.xlsx"]
    assert discovery.safe_glob(f"{tmp_path}/proc/*.xlsx") == [f"{tmp_path}/proc/x.xlsx"]  # named outright: fine
