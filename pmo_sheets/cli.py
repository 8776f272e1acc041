"""The ``pmo`` command: thin wrappers over :mod:`pmo_sheets` functions (see README for examples).

Exit codes: 0 all good; 1 data problems found; 2 usage or configuration error, nothing written.
Whatever goes wrong, the user sees one line on stderr, never a traceback or a boxed usage screen.
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

try:
    import typer
    from typer.core import TyperGroup
except ModuleNotFoundError as missing:  # `pip install pmo-sheets` alone brings the library, not the command
    sys.exit(f"pmo: the command line needs the cli extra: pip install \"pmo-sheets[cli]\" ({missing.name} is not installed)")

from pmo_sheets import __version__
from pmo_sheets.findings import catalogue_markdown
from pmo_sheets.lock import DEFAULT_WAIT, Holder
from pmo_sheets.readers.limits import ReadLimits
from pmo_sheets.schemas import KINDS
from pmo_sheets.settings import ValidationSettings
from pmo_sheets.sources import UsageError, validate_sources

PROG = "pmo"


class OneLineErrors(TyperGroup):
    """The ``pmo`` group: usage errors become one line on stderr (``pmo new: Missing option ...``).

    Click prints a usage screen and typer a box around the message; in a script's log, or when a
    coordinator pastes the error into a ticket, one line naming the command and the problem reads best.
    The same holds in tests, which invoke the group through ``CliRunner``, so this lives here rather
    than in :func:`main`.
    """

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args=args, prog_name=prog_name, complete_var=complete_var, standalone_mode=False, **extra)
        try:
            # Not standalone: click raises its usage errors instead of printing them; typer.Exit codes come back.
            code = super().main(args=args, prog_name=prog_name or PROG, complete_var=complete_var,
                                standalone_mode=False, **extra)
        except typer.TyperException as exc:  # click's UsageError, BadParameter, NoSuchOption...
            words = list(sys.argv[1:] if args is None else args)
            # Some errors come without their command's context ("Option '--annotate' requires an argument").
            fallback = f"{PROG} {words[0]}" if words and words[0] in self.commands else PROG
            code = _report_usage_error(exc, fallback)
        except typer.Abort:  # end of input at a prompt
            typer.echo(f"{PROG}: aborted", err=True)
            code = 1
        if code == 130:  # typer turned Ctrl-C into this exit code; no command uses it
            typer.echo(f"{PROG}: interrupted", err=True)
        sys.exit(code if isinstance(code, int) else 0)


def _report_usage_error(exc: Any, fallback: str) -> int:
    """Print a click usage error as one line; ``pmo`` alone prints the help and says so on stderr."""
    context = getattr(exc, "ctx", None)
    command = context.command_path if context is not None else fallback
    if type(exc).__name__ == "NoArgsIsHelpError":  # `pmo` with nothing after it
        typer.echo(context.get_help() if context is not None else "")
        typer.echo(f"{command}: choose one of the commands above", err=True)
        return 2
    message = " ".join(exc.format_message().split()).rstrip(".")
    typer.echo(f"{command}: {message} (see {command} --help)", err=True)
    return int(getattr(exc, "exit_code", 2))


app = typer.Typer(name=PROG, cls=OneLineErrors, add_completion=False, no_args_is_help=True,
                  pretty_exceptions_enable=False,  # main() turns an unexpected error into one line
                  help="pmo-sheets: standard project workbooks, validated and consolidated.")


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"pmo-sheets {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", help="print the version and exit", is_eager=True,
                                          callback=_show_version)] = False,
) -> None:
    """pmo-sheets: standard project workbooks, validated and consolidated."""


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


def _fail_usage(message: str) -> NoReturn:
    """One line on stderr and exit code 2: the request was impossible and nothing was written."""
    typer.echo(f"{PROG}: {message}", err=True)
    raise typer.Exit(2)


def _not_a_folder(path: Path) -> bool:
    """Whether something other than a folder is in the way (a path the OS rejects is reported when written)."""
    try:
        return path.exists() and not path.is_dir()
    except OSError:
        return False


@app.command()
def new(
    kind: Annotated[str, typer.Argument(help=f"one of: {', '.join(KINDS)}")],
    project_id: Annotated[str, typer.Option("--project-id", help="the project's ID, such as PRJ-0042")],
    name: Annotated[str, typer.Option("--name", help="the project's name")],
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="the .xlsx file to write, in an existing folder (default: ID-KIND.xlsx)")] = None,
    start: Annotated[str | None, typer.Option(help="project start date: 2026-03-31, 31/03/2026 or 31 Mar 2026")] = None,
    finish: Annotated[str | None, typer.Option(help="project finish date, in the same forms")] = None,
    addin: Annotated[bool, typer.Option("--addin", help="carry the xlwings Lite add-in (Validate in Excel)")] = False,
) -> None:
    """Make a ready-to-fill workbook from a template.

    The ID, name and dates are checked as pmo validate would check them; an existing file is never
    replaced and no folder is created.
    Example: pmo new project --project-id PRJ-0042 --name "New CRM" -o PRJ-0042.xlsx --addin
    """
    from pmo_sheets.templates import new_workbook

    try:
        target = new_workbook(kind, project_id, name, output, start=start, finish=finish, addin=addin)
    except UsageError as exc:
        _fail_usage(str(exc))
    typer.echo(f"wrote {target} ({kind} workbook for {project_id.strip()}{', with the xlwings Lite add-in' if addin else ''})")


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
        if directory is not None and not directory.is_dir():
            _fail_usage(f"--dir {directory}: {'not a folder' if _not_a_folder(directory) else 'no such folder'}")
        problems = check_templates(directory)
        for problem in problems:
            typer.echo(problem, err=True)
        if problems:
            raise typer.Exit(1)
        typer.echo("templates match the schemas")
        return
    if directory is not None and _not_a_folder(directory):
        _fail_usage(f"--dir {directory}: not a folder")
    try:
        written = write_templates(directory)
    except OSError as exc:
        _fail_usage(f"cannot write the templates into {directory or 'workbook_templates'}: "
                    f"{exc.filename or ''} ({exc.strerror or exc})")
    for path in written:
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

    try:
        if directory.exists() and not directory.is_dir():
            _fail_usage(f"{directory} is not a folder")
        existing = [str(path) for path in lite_files(directory) if path.exists()]
        if existing and not force:
            _fail_usage(f"{', '.join(existing)} already exist{'s' * (len(existing) == 1)}; add --force to overwrite")
        written = write_lite_files(directory)
    except OSError as exc:
        _fail_usage(f"cannot write {exc.filename or directory} ({exc.strerror or exc})")
    for path in written:
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

    A workbook past the read limits (a zip bomb, docs/trust.md) is refused; PMO_LIMITS_MAX_PART_MB=256 and
    the other PMO_LIMITS_* variables raise them.

    Example: pmo validate projects/*.xlsx --annotate checked/
    """
    if annotate_dir is not None and _not_a_folder(annotate_dir):
        _fail_usage(f"--annotate {annotate_dir}: not a folder")
    from pmo_sheets.config import environment_limits

    try:
        limits = ReadLimits.from_config(environment_limits())
        reports = validate_sources(sources, settings=ValidationSettings(day_first=not month_first,
                                                                         decimal_comma=decimal_comma), limits=limits)
    except UsageError as exc:
        _fail_usage(str(exc))
    from pmo_sheets.report import json_report, text_report

    failed_copies = False
    copies: list[Path] = []
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
                    copies.append(annotate(report, annotate_dir))
                except (OSError, ValueError) as exc:
                    failed_copies = True
                    reason = f"{exc.strerror} ({exc.filename})" if isinstance(exc, OSError) and exc.strerror else exc
                    typer.echo(f"pmo: cannot write annotated copy of {report.source}: {reason}", err=True)
    as_json = output_format is OutputFormat.json
    typer.echo(json_report(reports) if as_json else text_report(reports))
    if copies:  # after the report, and on stderr under --format json so that stdout stays one JSON document
        typer.echo(f"wrote the annotated copy {copies[0]}" if len(copies) == 1
                   else f"wrote {len(copies)} annotated copies to {annotate_dir}", err=as_json)
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
    notify: Annotated[bool, typer.Option(
        "--notify", help="then mail each PM the problems of their workbooks ([email]; as pmo chase)")] = False,
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
    # Also after a sync that found nothing new: a PM not mailed yet today (or whose mail failed) is due now.
    if notify and (result.written or not result.error):
        from pmo_sheets.chase import run_chase

        try:  # a mail that cannot be sent is a line of the summary, never a failed sync
            lines = run_chase(settings).lines()
        except UsageError as exc:
            lines = [f"chase list not sent: {exc}"]
        typer.echo("\n".join(lines), err=output_format is OutputFormat.json)
    raise typer.Exit(result.exit_code)


@app.command()
def chase(
    config: Annotated[Path, typer.Option("--config", "-c", help="portfolio.toml")],
    dry_run: Annotated[Path | None, typer.Option(
        "--dry-run", metavar="DIR", help="write the mails as .eml files into DIR instead of sending them")] = None,
) -> None:
    """Mail each project manager the problems of their workbooks found by the last sync.

    What is wrong, where, how to fix it and since when; at most one mail a day per PM, and only when
    their list changed. SMTP settings: [email] in portfolio.toml. Exit code 1 when mail could not be sent.
    Example: pmo chase --config portfolio.toml --dry-run outbox/
    """
    from pmo_sheets.chase import run_chase
    from pmo_sheets.config import load_config

    if dry_run is not None and _not_a_folder(dry_run):
        _fail_usage(f"--dry-run {dry_run}: not a folder")
    try:
        result = run_chase(load_config(config), dry_run=dry_run)
    except UsageError as exc:
        _fail_usage(str(exc))
    typer.echo("\n".join(result.lines()))
    raise typer.Exit(1 if result.problems else 0)


@app.command()
def serve(
    config: Annotated[Path, typer.Option("--config", "-c", help="portfolio.toml")],
    every: Annotated[str, typer.Option("--every", help="sync on this schedule: 30s, 15m, 1h")] = "15m",
    host: Annotated[str, typer.Option(
        "--host", help="address to listen on; any other than 127.0.0.1 / ::1 / localhost needs a token")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="port to listen on (0: any free port)")] = 8750,
    debounce: Annotated[str, typer.Option(
        "--debounce", help="after a save, wait until the folders have been quiet this long before syncing")] = "30s",
    poll: Annotated[str, typer.Option(
        "--poll", help="compare fingerprints this often (Google Drive, network shares without file events)")] = "60s",
    stale_after: Annotated[str | None, typer.Option(
        "--stale-after", help="/healthz answers 503 once the last good sync is older (default: 2 x --every + 5m)")] = None,
    grace: Annotated[str, typer.Option(
        "--grace", help="on SIGTERM or Ctrl-C, wait this long for a sync in progress before abandoning it")] = "30s",
    token_file: Annotated[Path | None, typer.Option(
        "--token-file", help="file holding the token (default: the PMO_SERVE_TOKEN variable)")] = None,
    no_events: Annotated[bool, typer.Option(
        "--no-events", help="do not watch folders for file events; rely on --poll alone")] = False,
) -> None:
    """Run the sync service: syncs on a schedule and on change, serves a status page and a JSON API.

    Runs until SIGTERM or Ctrl-C; the status page is at http://127.0.0.1:8750/.
    Example: pmo serve --config portfolio.toml --every 15m
    """
    try:
        from pmo_sheets.service.server import ServeOptions, parse_duration
        from pmo_sheets.service.server import serve as run_service
    except ModuleNotFoundError as missing:
        _fail_usage(f"pmo serve needs the serve extra: pip install \"pmo-sheets[serve]\" ({missing.name} is not installed)")
    try:
        options = ServeOptions(
            config=config, every=parse_duration(every, what="--every"), host=host, port=port,
            debounce=parse_duration(debounce, what="--debounce"), poll=parse_duration(poll, what="--poll"),
            stale_after=parse_duration(stale_after, what="--stale-after") if stale_after is not None else None,
            grace=0.0 if grace.strip() in ("0", "0s") else parse_duration(grace, what="--grace"),
            token_file=token_file, watch_events=not no_events)
        code = run_service(options)
    except UsageError as exc:
        _fail_usage(str(exc))
    raise typer.Exit(code)


class PackFormat(StrEnum):
    pdf = "pdf"
    html = "html"


@app.command()
def report(
    config: Annotated[Path, typer.Option("--config", "-c", help="portfolio.toml")],
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="the file to write (default: status-pack.pdf or status-pack.html)")] = None,
    output_format: Annotated[PackFormat, typer.Option("--format", help="pdf or html")] = PackFormat.pdf,
) -> None:
    """Write the portfolio status pack: a summary page, then one page per project, from the master.

    Example: pmo report --config portfolio.toml -o status-pack.pdf
    """
    from pmo_sheets.config import load_config

    try:
        from pmo_sheets.statuspack import render_html, render_pdf
        if output_format is PackFormat.pdf:
            import weasyprint  # noqa: F401  (checked here, so that a missing extra is one line)
    except (ModuleNotFoundError, OSError) as missing:  # OSError: WeasyPrint without the system's pango
        _fail_usage(f"the status pack needs the report extra: pip install \"pmo-sheets[report]\" ({missing})")
    target = output or Path(f"status-pack.{output_format.value}")
    if _not_a_folder(target.parent) or target.is_dir():
        _fail_usage(f"-o {target}: not a file in an existing folder")
    try:
        settings = load_config(config)
        if output_format is PackFormat.pdf:
            render_pdf(settings, target)
        else:
            target.write_text(render_html(settings), encoding="utf-8")
    except UsageError as exc:
        _fail_usage(str(exc))
    except OSError as exc:
        _fail_usage(f"cannot write {target} ({exc.strerror or exc})")
    typer.echo(f"wrote {target}")


def _and(words: list[str]) -> str:
    """``Resources, RAID, Changes and Status``."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


@app.command()
def upgrade(
    files: Annotated[list[str], typer.Argument(help="workbooks (.xlsx paths or globs) made from an earlier template")],
    output_dir: Annotated[Path | None, typer.Option(
        "-o", "--output", help="write the upgraded workbooks into this existing folder, under their own names")] = None,
    in_place: Annotated[bool, typer.Option("--in-place", help="replace each workbook with its upgrade")] = False,
    backup: Annotated[bool, typer.Option(
        "--backup", help="with --in-place: keep each original beside it as NAME.xlsx.vVERSION.bak")] = False,
) -> None:
    """Move workbooks to the current template version, keeping every value their project manager typed.

    Formats, dropdowns and formula columns become the new template's; new sheets are added empty; the
    upgraded workbook validates with exactly the findings the original had. Every file is checked
    before any is written; an existing file is never replaced except by --in-place.
    Example: pmo upgrade projects/*.xlsx -o upgraded/
    """
    from pmo_sheets.sources import expand_sources
    from pmo_sheets.upgrade import Written, upgrade_files

    def show(done: Written) -> None:
        item = done.upgrade
        counts = f"{item.report.errors} error{'s' * (item.report.errors != 1)} and " \
                 f"{item.report.warnings} warning{'s' * (item.report.warnings != 1)}"
        if done.target == item.source:
            where = f" in place (the original is kept as {done.backup})" if done.backup else " in place"
        else:
            where = f" into {done.target}"
        added = f"; added the sheet{'s' * (len(item.added_sheets) != 1)} {_and(item.added_sheets)}" \
            if item.added_sheets else ""
        typer.echo(f"upgraded {item.source} from template {item.from_version} to {item.to_version}{where}"
                   f"{added}; {counts}, as before")
        for sheet, moves in item.moved.items():
            what = "rows" if all(key.isdigit() for key in moves) else "columns"
            typer.echo(f"  {sheet}: {what} moved (yours now follow the template's): "
                       + ", ".join(f"{old} to {new}" for old, new in moves.items()))
        for note in [*item.notes, *(f"not carried over: {what}" for what in item.dropped)]:
            typer.echo(f"  {note}")

    try:
        upgrade_files(expand_sources(files), output_dir=output_dir, in_place=in_place, backup=backup, on_written=show)
    except UsageError as exc:  # one line naming the file; nothing written (every file is checked first)
        typer.echo(f"{PROG} upgrade: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command()
def rules() -> None:
    """Print the catalogue of rule codes as Markdown (docs/rules.md is this output)."""
    typer.echo(catalogue_markdown(), nl=False)


@app.command()
def demo(
    projects: Annotated[int, typer.Option(min=1, help="how many sample projects (at least 1)")] = 8,
    directory: Annotated[Path, typer.Option("--dir", help="where to write the sample portfolio")] = Path("demo"),
) -> None:
    """Generate a sample portfolio (some workbooks with planted mistakes) and run pmo-sheets on it.

    Running it again on the same folder starts afresh; a folder holding anything else is refused.
    Example: pmo demo --projects 12 --dir /tmp/demo
    """
    from pmo_sheets.demo import run_demo

    try:
        code = run_demo(projects, directory, echo=typer.echo)
    except UsageError as exc:
        _fail_usage(str(exc))
    raise typer.Exit(code)


def main() -> None:
    """Console entry point: exit codes as documented, and one line on stderr whatever happens.

    An unexpected error (a bug) is shown as one line too; set ``PMO_TRACEBACK=1`` to see where it
    happened when reporting it.
    """
    try:
        app(prog_name=PROG)
    except KeyboardInterrupt:
        typer.echo(f"{PROG}: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("PMO_TRACEBACK"):
            raise
        detail = " ".join(str(exc).split()) or "no details"
        typer.echo(f"{PROG}: internal error ({type(exc).__name__}: {detail}); please report it with the command "
                   "you ran (PMO_TRACEBACK=1 shows where it happened)", err=True)
        sys.exit(1)


if __name__ == "__main__":  # python -m pmo_sheets.cli, as the tests run it in a subprocess
    main()
