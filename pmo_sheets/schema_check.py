"""Check records against a table's JSON Schema, fast, with jsonschema's verdict as the law.

Validating every row with jsonschema costs about 100 µs; a realistic workbook has about 500 rows.
Most rows are valid, so each row first passes a gate built from the very same schema, and only the
rows the gate rejects are validated again by jsonschema, which lists every error of the row. The gate
may reject a valid row (jsonschema then finds nothing) but must never let an invalid one through; a
property-based test shows that this reports exactly the rows and fields that plain per-row jsonschema
validation reports.

The gate: when the row schema only lists properties and the required ones (ours do), a row is valid
exactly when its required fields are present and each value is valid against its own property's
schema. Each property's schema is compiled by fastjsonschema (with jsonschema's own format checks
plugged in), and a table repeats its values (statuses, owners, dates, currencies), so each distinct
value of a column is judged once per table. Other schemas are gated row by row by fastjsonschema.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from pmo_sheets.schemas import TableSpec

FORMAT_CHECKER = Draft202012Validator.FORMAT_CHECKER


def full_validator(schema: dict[str, Any]) -> Draft202012Validator:
    """The reference validator: JSON Schema 2020-12 with format assertions."""
    return Draft202012Validator(schema, format_checker=FORMAT_CHECKER)


# Keywords that only describe a value; two property schemas that differ only in these judge alike.
_ANNOTATIONS = frozenset({"title", "description", "$comment", "readOnly", "writeOnly", "default", "examples", "deprecated"})
# Row-level keywords under which a row is valid exactly when each of its values is valid on its own.
_SEPARABLE = frozenset({"$schema", "$id", "$comment", "title", "description", "type", "properties", "required"})
Gate = Callable[[], Callable[[dict[str, Any]], bool]]


def _compile(table: TableSpec) -> tuple[Gate, Draft202012Validator]:
    """A gate factory (one gate per batch of rows, remembering its verdicts) and the reference validator."""
    full = full_validator(table.schema)
    try:
        import fastjsonschema
    except ImportError:  # Pyodide without fastjsonschema: jsonschema alone, slower, same answers
        return (lambda: full.is_valid), full

    formats = {name: _conforms(name) for name in FORMAT_CHECKER.checkers}

    def compiled(schema: dict[str, Any]) -> Callable[[Any], bool]:
        validate = fastjsonschema.compile(schema, formats=formats, use_default=False)

        def check(instance: Any) -> bool:
            try:
                validate(instance)
            except fastjsonschema.JsonSchemaException:
                return False
            return True
        return check

    if not _separable(table.schema):
        whole = compiled(table.schema)  # row by row, no verdict to share between values
        return (lambda: whole), full
    required = tuple(table.schema.get("required", ()))
    # Columns with the same rules (four date columns, three money columns) share one check, and one
    # memory of verdicts: a date met as a start is not judged again as a finish.
    shared: dict[str, Callable[[Any], bool]] = {}
    rule_of: dict[str, str] = {}
    for name, schema in table.schema.get("properties", {}).items():
        rules = json.dumps({k: v for k, v in schema.items() if k not in _ANNOTATIONS and not k.startswith("x-")},
                           sort_keys=True)
        rule_of[name] = rules
        if rules not in shared:
            shared[rules] = compiled(schema)

    def gate() -> Callable[[dict[str, Any]], bool]:
        memories: dict[str, dict[Any, bool]] = {rules: {} for rules in shared}
        columns = {name: (shared[rules], memories[rules]) for name, rules in rule_of.items()}

        def passes(row: dict[str, Any]) -> bool:
            for name in required:
                if name not in row:
                    return False
            for name, value in row.items():
                column = columns.get(name)
                if column is None:
                    continue  # a field the schema does not describe is allowed
                check, known = column
                # 1, 1.0 and True are equal in Python but not in JSON Schema: only text is remembered by value
                key = value if type(value) is str else (type(value), value)
                verdict = known.get(key)
                if verdict is None:
                    verdict = known[key] = check(value)
                if not verdict:
                    return False
            return True
        return passes

    return gate, full


# Compiled once per table. Not a decorator on _compile: mutmut (make mutate) leaves decorated functions alone.
_compiled = cache(_compile)


def _conforms(name: str) -> Callable[[Any], bool]:
    """``FORMAT_CHECKER.conforms(value, name)`` without building the error message it throws away."""
    function, raises = FORMAT_CHECKER.checkers[name]

    def conforms(value: Any) -> bool:
        try:
            return bool(function(value))
        except raises:
            return False
    return conforms


def _separable(schema: dict[str, Any]) -> bool:
    """True when a row is valid exactly when each value is valid against its own property's schema."""
    if schema.get("type") != "object" or not all(key in _SEPARABLE or key.startswith("x-") for key in schema):
        return False
    properties = schema.get("properties", {})
    return isinstance(properties, dict) and all(isinstance(sub, dict) and not _refers(sub) for sub in properties.values())


def _refers(schema: Any) -> bool:
    """Whether a schema uses references, which a property's schema compiled on its own cannot resolve."""
    if isinstance(schema, dict):
        return any(key in ("$ref", "$dynamicRef", "$recursiveRef") or _refers(value) for key, value in schema.items())
    if isinstance(schema, list):
        return any(_refers(item) for item in schema)
    return False


def row_errors(table: TableSpec, rows: list[dict[str, Any]]) -> Iterator[tuple[int, ValidationError]]:
    """(index of the row, error) for every schema error in ``rows``, as jsonschema reports them."""
    gate, full = _compiled(table)
    passes = gate()
    for index, row in enumerate(rows):
        if not passes(row):
            for error in full.iter_errors(row):
                yield index, error


def error_fields(error: ValidationError, row: dict[str, Any]) -> list[str]:
    """The field(s) an error is about: the property it points into, or each missing required one."""
    if error.validator == "required":
        return [name for name in error.validator_value if name not in row]
    if error.absolute_path:
        return [str(error.absolute_path[0])]
    return []
