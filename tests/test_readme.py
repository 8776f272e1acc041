"""The README's examples are real: the validate and sync examples' output is produced here and compared.

The docs also match the code: the worksheet functions they name and count, the commands they
mention, and what each install brings.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from pmo_sheets.addin import udfs
from pmo_sheets.cli import app
from pmo_sheets.demo import break_some, write_sample_portfolio
from pmo_sheets.samples import plant_mistakes, sample_project, write_workbook

README = Path(__file__).resolve().parent.parent / "README.md"
DOCS = README.parent / "docs"
LITE_MAIN = README.parent / "pmo_sheets" / "addin" / "lite" / "main.py"
NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}


def readme_example(name: str) -> tuple[str, str]:
    """(command, expected output) of a marked example block in the README."""
    block = re.search(rf"<!-- README-EXAMPLE: {name} -->\n```\n(.*?)```\n<!-- /README-EXAMPLE -->", README.read_text(), re.S)
    assert block, f"README example {name!r} not found"
    command, _, output = block.group(1).partition("\n")
    return command.removeprefix("$ "), output


def test_readme_validate_example_is_what_pmo_prints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    command, expected = readme_example("validate")
    sample = sample_project(42)
    sample.project["project_name"] = "New CRM"
    plant_mistakes(sample)
    monkeypatch.chdir(tmp_path)
    write_workbook(sample, Path("PRJ-0042.xlsx"))

    result = CliRunner().invoke(app, command.split()[1:])

    assert result.exit_code == 1
    assert result.output == expected


def test_readme_sync_example_is_what_pmo_prints_after_the_demos_accidents(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    command, expected = readme_example("sync")
    monkeypatch.chdir(tmp_path)
    demo = Path("demo")
    write_sample_portfolio(8, demo)  # what `pmo demo` (and `make demo`) does, step by step
    assert CliRunner().invoke(app, command.split()[1:]).exit_code == 0
    break_some(demo, 8)

    result = CliRunner().invoke(app, command.split()[1:])

    assert result.exit_code == 1
    shown = result.stdout.replace(f"{tmp_path.resolve()}/", "")  # the README shows the folder as demo/
    seconds = re.search(r" in (\d+\.\d) s\n", expected)
    assert seconds, "the README example shows how long the sync took"
    assert re.sub(r" in \d+\.\d s\n", f" in {seconds[1]} s\n", shown, count=1) == expected


def _udf_names() -> set[str]:
    return {name.upper() for name, value in vars(udfs).items() if name.startswith("pmo_") and callable(value)}


def test_the_docs_name_every_worksheet_function_and_count_them_right() -> None:
    names = _udf_names()
    lite = set(re.findall(r"^def (pmo_\w+)\(", LITE_MAIN.read_text(), re.M))
    assert {name.upper() for name in lite} == names  # the Lite add-in registers each one

    for doc in (README, DOCS / "addin.md"):
        text = doc.read_text()
        assert set(re.findall(r"\b(PMO_[A-Z_]+)\(", text)) == names, doc.name
        for count in re.findall(r"\b(\w+) worksheet functions", text, re.I):
            assert NUMBERS.get(count.lower()) == len(names), f"{doc.name}: '{count} worksheet functions'"


def test_the_docs_mention_only_commands_that_exist() -> None:
    commands = set(get_command(app).commands)  # type: ignore[attr-defined]
    for doc in (README, *sorted(DOCS.glob("*.md"))):
        mentioned = set(re.findall(r"(?:`|\$ )pmo ([a-z_]+)", doc.read_text()))
        assert mentioned <= commands, f"{doc.name} mentions pmo {', '.join(sorted(mentioned - commands))}"


def _package(requirement: str) -> str:
    """The package a requirement names; ``pmo-sheets[cli]`` (one extra bringing another) is "cli extra"."""
    extra = re.fullmatch(r"pmo-sheets\[(\w+)\]", requirement)
    return f"{extra[1]} extra" if extra else re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower()


def test_the_readme_says_what_each_install_brings_as_pyproject_does() -> None:
    project = tomllib.loads((README.parent / "pyproject.toml").read_text())["project"]
    rows = dict(re.findall(r"^\| `pip install \"?pmo-sheets(\[\w+\])?\"?` \| ([^|]+) \|", README.read_text(), re.M))
    listed = {extra.strip("[]"): {name.strip().lower() for name in packages.split(",")} for extra, packages in rows.items()}

    assert listed.pop("") == {_package(r) for r in project["dependencies"]}
    assert listed.pop("all") == {"all of the above"}
    assert project["optional-dependencies"]["all"] == ["pmo-sheets[cli,google,addin,serve,report]"]
    extras = {name: {_package(r) for r in reqs} for name, reqs in project["optional-dependencies"].items()
              if name not in ("all", "test")}
    assert listed == extras


def test_readme_serve_commands_work_on_the_demo_portfolio(tmp_path: Path) -> None:
    block = re.search(r"<!-- README-SERVE -->\n```sh\n(.*?)```\n<!-- /README-SERVE -->", README.read_text(), re.S)
    assert block, "README's serve commands not found"
    serve, *calls = block.group(1).strip().splitlines()
    demo = tmp_path / "demo"
    write_sample_portfolio(3, demo)
    with socket.socket() as probe:  # a free port in place of 8750, which another test run may hold
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    words = serve.replace("8750", port).split()
    assert words[:2] == ["pmo", "serve"]
    env = {k: v for k, v in os.environ.items() if k != "PMO_SERVE_TOKEN"}
    service = subprocess.Popen([sys.executable, "-m", "pmo_sheets.cli", *words[1:], "--port", port], cwd=demo, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        outputs = []
        for call in calls:
            command = call.replace("8750", port)
            deadline = time.monotonic() + 30
            while True:
                done = subprocess.run(["bash", "-c", command], cwd=demo, capture_output=True, text=True, timeout=30)
                if (done.returncode == 0 and done.stdout) or time.monotonic() > deadline:
                    break
                time.sleep(0.2)  # the service is still starting
            assert done.returncode == 0, (command, done.stderr)
            outputs.append(json.loads(done.stdout))
    finally:
        service.terminate()
        service.wait(timeout=30)
    status, posted, health = outputs
    assert status["portfolio"] == "Demo portfolio"
    assert posted["queued"] is True
    assert health["status"] in ("ok", "stale")
