"""``portfolio.toml``: what to consolidate and where; validated against its own JSON Schema."""

from __future__ import annotations

import difflib
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from pmo_sheets.readers.limits import DEFAULT_LIMITS, ReadLimits
from pmo_sheets.schemas import schema_dir
from pmo_sheets.settings import EARLIEST_YEAR, LATEST_YEAR, ValidationSettings
from pmo_sheets.sources import UsageError

EXCEL_MAX_ROWS = 1_048_576


class ConfigError(UsageError):
    """A configuration problem: exit code 2, nothing written."""


@dataclass(frozen=True)
class SourceSpec:
    """One ``[[sources]]`` entry: ``kind`` is excel, google_sheet or google_folder."""

    kind: str
    target: str  # the path/glob, or the spreadsheet / folder ID or URL


@dataclass
class PortfolioConfig:
    """A validated configuration, with paths resolved against the config file's folder."""

    path: Path
    name: str
    reporting_currency: str
    master: Path
    state: Path
    sources: list[SourceSpec]
    fx: dict[str, float] = field(default_factory=dict)
    fiscal_year_start_month: int = 1
    max_rows_per_sheet: int = EXCEL_MAX_ROWS
    day_first: bool = True
    decimal_comma: bool = False
    plausible_years: tuple[int, int] = (EARLIEST_YEAR, LATEST_YEAR)
    reporting_cycle_months: int = 1  # a project's latest status row older than this is "status report overdue"
    workers: int = 2
    google: dict[str, Any] = field(default_factory=dict)
    #: Project ID -> source key (``file:/abs/path.xlsx`` or ``gsheet:ID``) that owns it whatever its age
    owners: dict[str, str] = field(default_factory=dict)
    limits: ReadLimits = DEFAULT_LIMITS  # [limits]: what one source may cost (docs/trust.md)
    email: dict[str, Any] = field(default_factory=dict)  # [email]: the chase list's SMTP settings (chase.py)

    @property
    def settings(self) -> ValidationSettings:
        """How this portfolio's workbooks are read and which dates are plausible."""
        return ValidationSettings(day_first=self.day_first, decimal_comma=self.decimal_comma,
                                  earliest_year=self.plausible_years[0], latest_year=self.plausible_years[1],
                                  reporting_cycle_months=self.reporting_cycle_months)

    @property
    def base(self) -> Path:
        return self.path.parent

    def resolve(self, relative: str) -> Path:
        candidate = Path(relative).expanduser()
        return candidate if candidate.is_absolute() else self.base / candidate


def _config_schema() -> dict[str, Any]:
    with open(schema_dir() / "config" / "portfolio.schema.json", encoding="utf-8") as handle:
        return json.load(handle)


def _where(path: Any) -> str:
    """A key's place in the file as people read TOML: ``sources[0].path``, ``fx.EUR``, ``(top level)``."""
    where = ""
    for part in path:
        where += f"[{part}]" if isinstance(part, int) else f".{part}" if where else str(part)
    return where or "(top level)"


def _path_order(error: Any) -> list[tuple[int, str]]:
    """Errors in a steady order: by key, and entries of a list by their number (sources[2] before sources[10])."""
    return [(part, "") if isinstance(part, int) else (-1, str(part)) for part in error.absolute_path]


def _close_key(key: str, allowed: list[str]) -> list[str]:
    """The allowed key a mistyped one most likely stands for (``pth`` → ``path``), if any."""
    return difflib.get_close_matches(str(key).lower(), allowed, n=1, cutoff=0.75)


def _describe(error: Any, prefix: tuple[Any, ...] = ()) -> list[str]:
    """One plain message per problem of a JSON-Schema error, each naming the key it is about.

    ``prefix``: where the instance the error is about sits in the whole file (for a [[sources]] entry
    checked on its own).
    """
    path = (*prefix, *error.absolute_path)
    where = _where(path)
    if error.validator == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        messages = []
        for extra in sorted(set(error.instance) - set(allowed)):
            close = _close_key(extra, allowed)
            hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(allowed)}"
            messages.append(f"{where}: unknown key {extra!r} ({hint})")
        return messages
    if error.validator == "required":
        missing = [key for key in error.validator_value if key not in error.instance]
        return [f"{where}: missing key {key!r}" for key in missing]
    if error.validator == "oneOf" and isinstance(error.instance, dict):
        # A [[sources]] entry: the kind picks the branch, whose own errors say which key is wrong.
        kind = error.instance.get("kind")
        branches = [b for b in error.validator_value if b.get("properties", {}).get("kind", {}).get("const") == kind]
        if not branches:
            return [f"{where}.kind: {kind!r} is not a source kind (excel, google_sheet or google_folder)"
                    if "kind" in error.instance else f"{where}: missing key 'kind' (excel, google_sheet or google_folder)"]
        inner = sorted(Draft202012Validator(branches[0]).iter_errors(error.instance), key=_path_order)
        return _plain(inner, prefix=path) or [f"{where}: {error.message}"]
    if error.validator == "pattern" and error.validator_value == "^[A-Z]{3}$":
        return [f"{where}: {error.instance!r} is not a currency code such as USD (three capital letters)"]
    return [f"{where}: {error.message}"]


def _plain(errors: list[Any], prefix: tuple[Any, ...] = ()) -> list[str]:
    """Every error's messages; a key reported missing is left out when a mistyped key stands for it."""
    mistyped = {(tuple(e.absolute_path), close) for e in errors if e.validator == "additionalProperties"
                for extra in set(e.instance) - set(e.schema.get("properties", {}))
                for close in _close_key(extra, list(e.schema.get("properties", {})))}
    messages = []
    for error in errors:
        if error.validator == "required":
            missing = [key for key in error.validator_value if key not in error.instance]
            if all((tuple(error.absolute_path), key) in mistyped for key in missing):
                continue
        messages.extend(_describe(error, prefix))
    return messages


#: ``PMO_LIMITS_MAX_PART_MB=256`` sets ``[limits] max_part_mb`` where there is no portfolio.toml (``pmo validate``).
LIMITS_ENVIRONMENT_PREFIX = "PMO_LIMITS_"


def environment_limits(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The ``[limits]`` keys set by ``PMO_LIMITS_<KEY>`` environment variables, checked as portfolio.toml's are.

    ``pmo validate`` has no configuration file, so these are how its limits are raised; in a sync,
    portfolio.toml's ``[limits]`` table wins over them. Raises :class:`ConfigError` naming the variable.
    """
    environ = os.environ if environ is None else environ
    schema = _config_schema()["properties"]["limits"]["properties"]
    table: dict[str, Any] = {}
    for name, text in environ.items():
        if not name.startswith(LIMITS_ENVIRONMENT_PREFIX):
            continue
        key = name.removeprefix(LIMITS_ENVIRONMENT_PREFIX).lower()
        if key not in schema:
            close = difflib.get_close_matches(key, schema, n=1)
            hint = f" (did you mean {LIMITS_ENVIRONMENT_PREFIX}{close[0].upper()}?)" if close else ""
            raise ConfigError(f"{name}: unknown limit{hint}; known: "
                              + ", ".join(LIMITS_ENVIRONMENT_PREFIX + k.upper() for k in schema))
        whole = schema[key]["type"] == "integer"
        try:
            value: float = int(text) if whole else float(text)
        except ValueError:
            raise ConfigError(f"{name}={text!r}: not a {'whole number' if whole else 'number'}") from None
        errors = list(Draft202012Validator(schema[key]).iter_errors(value))
        if errors or value != value or value in (float("inf"), float("-inf")):
            raise ConfigError(f"{name}={text!r}: {schema[key]['description']}; must be "
                              + ("at least 1" if "minimum" in schema[key] else "more than 0"))
        table[key] = value
    return table


def parse_config(data: dict[str, Any], path: Path) -> PortfolioConfig:
    """Validate a parsed TOML document and build the configuration; raises :class:`ConfigError`."""
    errors = sorted(Draft202012Validator(_config_schema()).iter_errors(data), key=_path_order)
    if errors:
        raise ConfigError(f"{path}: " + "; ".join(_plain(errors)[:5]))
    config = PortfolioConfig(
        path=path,
        name=data["name"],
        reporting_currency=data["reporting_currency"],
        master=Path(),
        state=Path(),
        sources=[SourceSpec(s["kind"], s.get("path") or s["id"]) for s in data["sources"]],
        fx={k: float(v) for k, v in data.get("fx", {}).items()},
        fiscal_year_start_month=data.get("fiscal_year_start_month", 1),
        max_rows_per_sheet=data.get("max_rows_per_sheet", EXCEL_MAX_ROWS),
        day_first=data.get("day_first", True),
        decimal_comma=data.get("decimal_separator", ".") == ",",
        plausible_years=tuple(data.get("plausible_years", (EARLIEST_YEAR, LATEST_YEAR))),
        reporting_cycle_months=data.get("reporting_cycle_months", 1),
        workers=data.get("workers", 2),
        google=data.get("google", {}),
        limits=ReadLimits.from_config({**environment_limits(), **data.get("limits", {})}),  # portfolio.toml wins
        email=data.get("email", {}),
    )
    if config.plausible_years[0] > config.plausible_years[1]:
        raise ConfigError(f"{path}: plausible_years: the first year {config.plausible_years[0]} is after the last "
                          f"{config.plausible_years[1]}")
    config.owners = {project_id: _source_key(config, target) for project_id, target in data.get("owners", {}).items()}
    config.master = config.resolve(data["master"])
    config.state = config.resolve(data.get("state", config.master.stem + ".state.sqlite"))
    config.fx.setdefault(config.reporting_currency, 1.0)
    return config


def _source_key(config: PortfolioConfig, target: str) -> str:
    """The state-store key of a source named in ``[owners]``: a workbook path or a Google Sheet URL or ID."""
    from pmo_sheets.readers.google_refs import is_google_sheet, spreadsheet_id

    if is_google_sheet(target):
        return f"gsheet:{spreadsheet_id(target)}"
    return f"file:{config.resolve(target).resolve()}"


def _bad_byte(error: UnicodeDecodeError) -> str:
    """The first byte a decoder stumbled on, in hex."""
    return error.object[error.start:error.start + 1].hex()


def load_config(path: Path) -> PortfolioConfig:
    """Read and validate ``portfolio.toml``; every problem is a :class:`ConfigError` naming the key."""
    try:
        if path.exists() and not path.is_file():  # a folder, or a FIFO that would block the read forever
            raise ConfigError(f"{path}: not a file; give the path of portfolio.toml")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        line = exc.object[:exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}: not UTF-8 text (line {line} has the byte 0x{_bad_byte(exc)}); "
                          "save it as UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    return parse_config(data, path.resolve())
