"""The JSON Schemas in ``schemas/`` read into table specs: columns, headers, formats, lists, formulas.

The schemas are the single source of truth. Each describes one row of one table with standard
JSON Schema keywords; the layout hints a template needs live beside them in ``x-`` keywords:

- table: ``x-table`` (name), ``x-sheet``, ``x-key`` (unique column(s)), ``x-layout`` (``form`` for
  the one-record Project sheet, else a table with a header row), ``x-rows`` (pre-formatted rows),
  ``x-since`` (the template version that added the table: older workbooks are read without it),
  ``x-may-be-empty`` (an empty table is normal, not worth a ``table-empty`` warning);
- column: ``title`` (header text), ``x-width``, ``x-number-format``, ``x-formula`` (an Excel formula
  whose ``{field}`` placeholders become cells of the same row), ``x-rating`` (a formula from
  :mod:`pmo_sheets.ratings`), ``x-aliases`` (other headers accepted), ``x-month``, ``x-list-name``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

TEMPLATE_VERSION = "2.0"
#: 1.1: same layout as 1.0, tighter rules (see docs/trust.md); 2.0: Resources, RAID, Changes and Status
#: sheets added. Every version keeps validating with its own sheets (a portfolio may mix versions).
SUPPORTED_VERSIONS = ("1.0", "1.1", "2.0")
#: The version a table without ``x-since`` belongs to: the first one.
FIRST_VERSION = SUPPORTED_VERSIONS[0]
METADATA_SHEET = "_pmo"
LISTS_SHEET = "Lists"
INSTRUCTIONS_SHEET = "Instructions"

#: Workbook kinds and the tables each one holds. Every kind carries the Project sheet: it names the
#: project that the plan, budget or risk log belongs to.
KINDS: dict[str, tuple[str, ...]] = {
    "project": ("project", "tasks", "budget", "risks", "resources", "raid", "changes", "status"),
    "plan": ("project", "tasks"),
    "budget": ("project", "budget"),
    "risk_log": ("project", "risks"),
}
KIND_TITLES = {
    "project": "Project workbook (plan, budget, risk log, resources, RAID log, changes and status)",
    "plan": "Project plan",
    "budget": "Project budget",
    "risk_log": "Risk log",
}


@dataclass(frozen=True, eq=False)
class ColumnSpec:
    """One field of a table: where it sits, how it looks, what it may hold."""

    name: str
    title: str
    description: str
    schema: dict[str, Any]
    position: int  # 1-based column (table layout) or row (form layout)
    width: float
    number_format: str | None
    formula: str | None
    rating: str | None
    aliases: tuple[str, ...]
    enum: tuple[Any, ...] | None
    list_name: str | None
    month: bool

    @property
    def kind(self) -> str:
        """'date', 'integer', 'number' or 'string': how a cell value is read."""
        if self.schema.get("format") == "date":
            return "date"
        return str(self.schema.get("type", "string"))

    @property
    def calculated(self) -> bool:
        """True for a column the template fills with a formula; users do not type it."""
        return bool(self.formula or self.rating)


@dataclass(frozen=True, eq=False)
class TableSpec:
    """One table: its schema, sheet and columns in template order."""

    name: str
    title: str
    description: str
    sheet: str
    layout: str
    key: tuple[str, ...]
    rows: int
    width: float
    schema: dict[str, Any]
    columns: tuple[ColumnSpec, ...] = field(repr=False)
    since: str = FIRST_VERSION  # the template version that added the table
    may_be_empty: bool = False  # an empty table is normal (no change requests yet), not a finding

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(self.schema.get("required", ()))

    def column(self, name: str) -> ColumnSpec:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def input_columns(self) -> tuple[ColumnSpec, ...]:
        return tuple(c for c in self.columns if not c.calculated)


def schema_dir() -> Path:
    """Where the schema files are: $PMO_SCHEMA_DIR, the package's bundled copy, or the repository's."""
    env = os.environ.get("PMO_SCHEMA_DIR")
    if env:
        return Path(env)
    bundled = Path(__file__).parent / "_schemas"
    if bundled.is_dir():
        return bundled
    return Path(__file__).resolve().parent.parent / "schemas"


def table_from_schema(schema: dict[str, Any]) -> TableSpec:
    """Build a :class:`TableSpec` from one schema document."""
    columns = []
    for position, (name, prop) in enumerate(schema["properties"].items(), start=1):
        enum = prop.get("enum")
        columns.append(
            ColumnSpec(
                name=name,
                title=prop.get("title", name),
                description=prop.get("description", ""),
                schema=prop,
                position=position,
                width=float(prop.get("x-width", 13)),
                number_format=prop.get("x-number-format")
                or ("yyyy-mm-dd" if prop.get("format") == "date" else None),
                formula=prop.get("x-formula"),
                rating=prop.get("x-rating"),
                aliases=tuple(prop.get("x-aliases", ())),
                enum=tuple(enum) if enum is not None else None,
                list_name=prop.get("x-list-name"),
                month=bool(prop.get("x-month")),
            )
        )
    key = schema.get("x-key", ())
    return TableSpec(
        name=schema["x-table"],
        title=schema.get("title", schema["x-table"]),
        description=schema.get("description", ""),
        sheet=schema["x-sheet"],
        layout=schema.get("x-layout", "table"),
        key=(key,) if isinstance(key, str) else tuple(key),
        rows=int(schema.get("x-rows", 1)),
        width=float(schema.get("x-width", 13)),
        schema=schema,
        columns=tuple(columns),
        since=str(schema.get("x-since", FIRST_VERSION)),
        may_be_empty=bool(schema.get("x-may-be-empty", False)),
    )


def load_schema_file(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


@cache
def load_tables(directory: str | None = None) -> dict[str, TableSpec]:
    """All table specs keyed by table name, in the order of :data:`KINDS` ``project``."""
    root = Path(directory) if directory else schema_dir()
    tables = {}
    for path in sorted(root.glob("*.schema.json")):
        spec = table_from_schema(load_schema_file(path))
        tables[spec.name] = spec
    order = KINDS["project"]
    return {name: tables[name] for name in sorted(tables, key=lambda n: (order.index(n) if n in order else 99, n))}


def version_key(version: str) -> tuple[int, ...]:
    """``"1.10"`` after ``"1.9"``: versions compare by their numbers."""
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def tables_in(kind: str, version: str = TEMPLATE_VERSION) -> list[TableSpec]:
    """The table specs a workbook of this kind and template version holds, in template order.

    A 1.x project workbook holds project, tasks, budget and risks; 2.0 adds resources, raid, changes
    and status (their schemas say ``"x-since": "2.0"``).
    """
    tables = load_tables()
    wanted = version_key(version)
    return [tables[name] for name in KINDS[kind] if version_key(tables[name].since) <= wanted]


def tables_for_kind(kind: str) -> list[TableSpec]:
    """The table specs a workbook of this kind holds in the current template version."""
    return tables_in(kind, TEMPLATE_VERSION)


def kind_for_sheets(sheet_names: set[str]) -> str | None:
    """Guess the kind of a workbook from its sheets, for workbooks that lost their metadata.

    Only the sheets every version of a kind has are required, so a 1.0 workbook is recognised too.
    """
    for kind in ("project", "plan", "budget", "risk_log"):
        if all(spec.sheet in sheet_names for spec in tables_in(kind, FIRST_VERSION)):
            return kind
    return None


def version_for_sheets(kind: str, sheet_names: set[str]) -> str:
    """The newest template version whose sheets of ``kind`` are all present (for lost metadata)."""
    for version in sorted(SUPPORTED_VERSIONS, key=version_key, reverse=True):
        if all(spec.sheet in sheet_names for spec in tables_in(kind, version)):
            return version
    return FIRST_VERSION
