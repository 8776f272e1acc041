"""The ``pmo`` command: thin wrappers over :mod:`pmo_sheets` functions (see README for examples).

Exit codes: 0 all good; 1 data problems found; 2 usage or configuration error, nothing written.
"""

from __future__ import annotations

import datetime as dt
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from pmo_sheets.findings import catalogue_markdown
from pmo_sheets.lock import DEFAULT_WAIT, Holder
from pmo_sheets.schemas import KINDS
from pmo_sheets.settings import ValidationSettings
from pmo_sheets.sources import UsageError, validate_sources

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="pmo-sheets: standard project workbooks, validated and consolidated.")


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


def _fail_usage(message: str) -> None:
    typer.echo(f"pmo: {message}", err=True)
    raise typer.Exit(2)


@app.command()
def new(
    kind: Annotated[str, typer.Argument(help=f"one of: {', '.join(KINDS)}")],
    project_id: Annotated[str, typer.Option("--project-id", help="the project's ID, such as PRJ-0042")],
    name: Annotated[str, typer.Option("--name", help="the project's name")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="file to write (default: ID-KIND.xlsx)")] = None,
    start: Annotated[str | None, typer.Option(help="project start date, YYYY-MM-DD")] = None,
    finish: Annotated[str | None, typer.Option(help="project finish date, YYYY-MM-DD")] = None,
    addin: Annotated[bool, typer.Option("--addin", help="carry the xlwings Lite add-in (Validate in Excel)")] = False,
) -> None:
    """Make a ready-to-fill workbook from a template.

    Example: pmo new project --project-id PRJ-0042 --name "New CRM" -o PRJ-0042.xlsx --addin
    """
    from pmo_sheets.templates import new_workbook

    if kind not in KINDS:
        _fail_usage(f"unknown kind '{kind}'; choose one of {', '.join(KINDS)}")
    try:
        start_date = dt.date.fromisoformat(start) if start else None
        finish_date = dt.date.fromisoformat(finish) if finish else None
    except ValueError as exc:
        _fail_usage(f"dates must look like 2026-03-31 ({exc})")
    target = output or Path(f"{project_id}-{kind}.xlsx")
    if target.exists():
        _fail_usage(f"{target} already exists; choose another name with -o")
    new_workbook(kind, project_id, name, target, start=start_date, finish=finish_date, addin=addin)
    typer.echo(f"wrote {target} ({kind} workbook for {project_id}{', with the xlwings Lite add-in' if addin else ''})")


@app.command()
def templates(
    check: Annotated[bool, typer.Option("--check", help="fail when workbook_templates/ differs from schemas/")] = False,
    directory: Annotated[Path | None, typer.Option("--dir", help="template folder")] = None,
) -> None:
    """Regenerate workbook_templates/ from schemas/, or check that they match.

    Example: pmo templates --check
    """
    from pmo_sheets.templates import check_templates, write_templates

    if check:
        problems = check_templates(directory)
        for problem in problems:
            typer.echo(problem, err=True)
        if problems:
            raise typer.Exit(1)
        typer.echo("templates match the schemas")
        return
    for path in write_templates(directory):
        typer.echo(f"wrote {path}")


@app.command()
def lite(
    directory: Annotated[Path, typer.Argument(help="folder to write main.py and requirements.txt into")],
    force: Annotated[bool, typer.Option("--force", help="overwrite main.py and requirements.txt")] = False,
) -> None:
    """Write the add-in's main.py and requirements.txt for pasting into the xlwings Lite editor.

    main.py is self-contained: it carries the pmo-sheets modules it needs, so nothing has to be hosted.
    Example: pmo lite lite-code/
    """
    from pmo_sheets.addin.bundle import lite_files, write_lite_files

    existing = [str(path) for path in lite_files(directory) if path.exists()]
    if existing and not force:
        _fail_usage(f"{', '.join(existing)} already exist{'s' * (len(existing) == 1)}; add --force to overwrite")
    for path in write_lite_files(directory):
        typer.echo(f"wrote {path}")


@app.command()
def validate(
    sources: Annotated[list[str], typer.Argument(help="workbook paths, globs, or Google Sheet URLs or IDs")],
    output_format: Annotated[OutputFormat, typer.Option("--format", help="text or json")] = OutputFormat.text,
    annotate_dir: Annotated[Path | None, typer.Option("--annotate", help="write annotated copies here")] = None,
    month_first: Annotated[bool, typer.Option("--month-first", help="read 03/04/2026 as March 4")] = False,
    decimal_comma: Annotated[bool, typer.Option(
        "--decimal-comma", help="read text numbers as 1.200,50 (a workbook's own _pmo decimal_separator wins)")] = False,
) -> None:
    """Check workbooks against the schemas and rules; every finding names its sheet and cell.

    Example: pmo validate projects/*.xlsx --annotate checked/
    """
    try:
        reports = validate_sources(sources, settings=ValidationSettings(day_first=not month_first,
                                                                         decimal_comma=decimal_comma))
    except UsageError as exc:
        _fail_usage(str(exc))
    from pmo_sheets.report import json_report, text_report

    failed_copies = False
    if annotate_dir is not None:
        from pmo_sheets.annotate import annotate, overwritten_sources

        clashes = overwritten_sources(reports, annotate_dir)
        if clashes:
            _fail_usage(f"--annotate {annotate_dir}: the annotated copy of {clashes[0]} would overwrite it; "
                        "choose a folder other than the sources' own")
        for report in reports:
            if report.readable and not Path(report.source).is_file():  # a Google Sheet: nothing to copy
                typer.echo(f"pmo: no annotated copy of {report.source}: annotated copies are made of .xlsx files; "
                           "the findings above name each cell", err=True)
            elif report.readable:
                try:
                    annotate(report, annotate_dir)
                except (OSError, ValueError) as exc:
                    failed_copies = True
                    typer.echo(f"pmo: cannot write annotated copy of {report.source}: {exc}", err=True)
    typer.echo(json_report(reports) if output_format is OutputFormat.json else text_report(reports))
    raise typer.Exit(2 if failed_copies else 0 if all(r.valid for r in reports) else 1)


@app.command()
def sync(
    config: Annotated[Path, typer.Option("--config", "-c", help="portfolio.toml")],
    full: Annotated[bool, typer.Option("--full", help="read every source again, changed or not")] = False,
    prune_missing: Annotated[bool, typer.Option(
        "--prune-missing", help="drop sources whose file or spreadsheet is gone, with their data")] = False,
    output_format: Annotated[OutputFormat, typer.Option("--format", help="text or json")] = OutputFormat.text,
    wait: Annotated[float, typer.Option(
        "--wait", min=0, metavar="SECONDS",
        help="how long to wait for another sync of this portfolio to finish before giving up (exit 2)")] = DEFAULT_WAIT,
    rebuild_state: Annotated[bool, typer.Option(
        "--rebuild-state", help="set the state store aside and start a new one: every source is read again, "
                                "finance's comments come from the master")] = False,
) -> None:
    """Consolidate every source into the master portfolio workbook.

    A source that is gone keeps its last good data ("missing") until --prune-missing drops it.
    One sync of a portfolio runs at a time; a second one waits (--wait), then exits 2.
    Example: pmo sync --config portfolio.toml
    """
    from pmo_sheets.config import load_config
    from pmo_sheets.summary import sync_with_progress, text_summary

    def waiting(holder: Holder | None, seconds: float) -> None:
        who = f" ({holder.describe()})" if holder else ""
        typer.echo(f"pmo: another sync of this portfolio is running{who}; waiting up to {seconds:g} s", err=True)

    try:
        settings = load_config(config)
        result = sync_with_progress(settings, full=full, prune_missing=prune_missing, rebuild_state=rebuild_state,
                                    wait=wait, on_wait=waiting, show=output_format is OutputFormat.text)
    except UsageError as exc:
        _fail_usage(str(exc))
    if output_format is OutputFormat.json:
        import json

        typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    elif not (result.error and not result.written):
        typer.echo(text_summary(result))
    if result.error and not result.written:  # nothing written (a full or read-only folder): one line, like exit 2's
        typer.echo(f"pmo: {result.error}", err=True)
    raise typer.Exit(result.exit_code)


@app.command()
def rules() -> None:
    """Print the catalogue of rule codes as Markdown (docs/rules.md is this output)."""
    typer.echo(catalogue_markdown(), nl=False)


@app.command()
def demo(
    projects: Annotated[int, typer.Option(help="how many sample projects")] = 8,
    directory: Annotated[Path, typer.Option("--dir", help="where to write the sample portfolio")] = Path("demo"),
) -> None:
    """Generate a sample portfolio (some workbooks with planted mistakes) and run pmo-sheets on it.

    Example: pmo demo --projects 12 --dir /tmp/demo
    """
    from pmo_sheets.demo import run_demo

    raise typer.Exit(run_demo(projects, directory, echo=typer.echo))


def main() -> None:
    """Console entry point."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("pmo: interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":  # python -m pmo_sheets.cli, as the tests run it in a subprocess
    main()
