"""``portfolio.toml``: what to consolidate and where; validated against its own JSON Schema."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

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
    workers: int = 2
    google: dict[str, Any] = field(default_factory=dict)
    #: Project ID -> source key (``file:/abs/path.xlsx`` or ``gsheet:ID``) that owns it whatever its age
    owners: dict[str, str] = field(default_factory=dict)

    @property
    def settings(self) -> ValidationSettings:
        """How this portfolio's workbooks are read and which dates are plausible."""
        return ValidationSettings(day_first=self.day_first, decimal_comma=self.decimal_comma,
                                  earliest_year=self.plausible_years[0], latest_year=self.plausible_years[1])

    @property
    def base(self) -> Path:
        return self.path.parent

    def resolve(self, relative: str) -> Path:
        candidate = Path(relative).expanduser()
        return candidate if candidate.is_absolute() else self.base / candidate


def _config_schema() -> dict[str, Any]:
    with open(schema_dir() / "config" / "portfolio.schema.json", encoding="utf-8") as handle:
        return json.load(handle)


def _describe(error: Any) -> str:
    where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        allowed = ", ".join(error.schema.get("properties", {}))
        return f"{where}: unknown key {', '.join(map(repr, extra))} (allowed: {allowed})"
    if error.validator == "oneOf" and isinstance(error.instance, dict):
        kind = error.instance.get("kind")
        if kind not in ("excel", "google_sheet", "google_folder"):
            return f"{where}.kind: {kind!r} is not a source kind (excel, google_sheet or google_folder)"
        needs = "path" if kind == "excel" else "id"
        return f"{where}: a {kind} source takes exactly kind and {needs}"
    return f"{where}: {error.message}"


def parse_config(data: dict[str, Any], path: Path) -> PortfolioConfig:
    """Validate a parsed TOML document and build the configuration; raises :class:`ConfigError`."""
    errors = sorted(Draft202012Validator(_config_schema()).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        raise ConfigError(f"{path}: " + "; ".join(_describe(e) for e in errors[:5]))
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
        workers=data.get("workers", 2),
        google=data.get("google", {}),
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


def load_config(path: Path) -> PortfolioConfig:
    """Read and validate ``portfolio.toml``; every problem is a :class:`ConfigError` naming the key."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration ({exc.strerror})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    return parse_config(data, path.resolve())
