"""The schema check of pmo_sheets.schema_check on hand-written rows: which field of which row is wrong, and why.

Fast unit tests (no workbook, no sync), so that `make mutate` can run them against every planted bug in
schema_check.py. tests/test_schema_fast_path.py shows on generated rows that the fast gate and plain
jsonschema report the same cells; here each case is written out by hand, and the gate itself is held to
its promise: every valid row goes through it without jsonschema (that is what makes validation fast).
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

import pytest

from pmo_sheets import schema_check
from pmo_sheets.schema_check import error_fields, full_validator, row_errors
from pmo_sheets.schemas import TableSpec, load_tables

pytestmark = pytest.mark.usefixtures("fresh_schema_gates")

# One valid row per table, every column filled (the calculated ones too, as a calculated file has them).
VALID: dict[str, dict[str, Any]] = {
    "project": {"project_id": "PRJ-0042", "project_name": "Data hub", "program": "Digital", "portfolio": "Core",
                "project_manager": "Ana Silva", "pm_email": "ana@example.com", "sponsor": "Bo Chen",
                "start_date": "2026-03-01", "finish_date": "2026-09-30", "status": "In Progress", "rag": "Green",
                "priority": "High", "currency": "EUR", "approved_budget": 250000},
    "tasks": {"task_id": "1.2", "task_name": "Design", "owner": "Ana Silva", "start": "2026-03-02",
              "finish": "2026-03-06", "baseline_start": "2026-03-02", "baseline_finish": "2026-03-05",
              "percent_complete": 0.5, "status": "In Progress", "milestone": "No", "predecessors": "1.1",
              "duration_days": 5, "finish_slip_days": 1, "schedule_rag": "Amber"},
    "budget": {"line_id": "L01", "category": "Labour", "cost_center": "CC-100", "description": "Design team",
               "period": "2026-03-01", "currency": "EUR", "budget": 1200.5, "actual": 600, "forecast": 500,
               "eac": 1100, "variance": 100.5, "budget_rag": "Green"},
    "risks": {"risk_id": "R-001", "title": "Vendor late", "category": "Schedule", "owner": "Ana Silva",
              "raised": "2026-03-02", "probability": 3, "impact": 4, "score": 12, "rating": "Medium",
              "response": "Mitigate", "mitigation": "Second vendor", "due_date": "2026-04-01", "status": "Open"},
    "resources": {"person": "Ana Silva", "email": "ana@example.com", "role": "Analyst", "work_package": "1.2",
                  "month": "2026-03-01", "allocation": 0.5, "cost_rate": 800},
    "raid": {"raid_id": "D-1", "type": "Dependency", "title": "API ready", "owner": "Ana Silva",
             "raised": "2026-03-02", "due": "2026-04-01", "closed": "2026-04-02", "priority": "High",
             "status": "Closed", "depends_on": "PRJ-0007", "linked_item": "R-001"},
    "changes": {"change_id": "CR-1", "title": "More reports", "requester": "Bo Chen", "raised": "2026-03-02",
                "decision": "Approved", "decision_date": "2026-03-09", "schedule_impact_days": -5,
                "cost_impact": -1500.25, "currency": "EUR"},
    "status": {"period": "2026-03-01", "overall_rag": "Amber", "schedule_rag": "Green", "budget_rag": "Amber",
               "scope_rag": "Green", "summary": "On track", "achievements": "Design done", "next_steps": "Build",
               "escalations": "None"},
}


def errors(table: str, rows: list[dict[str, Any]], spec: TableSpec | None = None) -> list[tuple[int, str, list[str]]]:
    """(row index, the JSON Schema keyword that failed, the field(s) it is about) for each error."""
    spec = spec or load_tables()[table]
    return [(index, error.validator, error_fields(error, rows[index])) for index, error in row_errors(spec, rows)]


def gate_verdicts(spec: TableSpec, rows: list[dict[str, Any]]) -> list[bool]:
    gate, _ = schema_check._compiled(spec)
    passes = gate()
    return [passes(row) for row in rows]


def test_every_table_has_a_valid_row_here() -> None:
    assert set(VALID) == set(load_tables())
    for table, row in VALID.items():
        assert set(row) == {c.name for c in load_tables()[table].columns}
        assert list(full_validator(load_tables()[table].schema).iter_errors(row)) == []


@pytest.mark.parametrize("table", list(VALID))
def test_a_valid_row_goes_through_the_fast_gate_without_jsonschema(table: str) -> None:
    spec = load_tables()[table]
    rows = [VALID[table], dict(VALID[table]), {n: v for n, v in VALID[table].items() if n in spec.required}]
    assert gate_verdicts(spec, rows) == [True, True, True]
    assert errors(table, rows) == []


@pytest.mark.parametrize(("table", "change", "expected"), [
    ("tasks", {"start": "2026-02-30"}, [("format", ["start"])]),
    ("tasks", {"finish": "31/03/2026"}, [("format", ["finish"])]),
    ("tasks", {"finish": "0000-01-01"}, [("format", ["finish"])]),  # no year 0: fastjsonschema's own check lets it by
    ("tasks", {"finish": "\uff12\uff10\uff12\uff16-03-01"}, [("format", ["finish"])]),  # full-width digits
    ("tasks", {"percent_complete": 1.0000001}, [("maximum", ["percent_complete"])]),
    ("tasks", {"percent_complete": -0.1}, [("minimum", ["percent_complete"])]),
    ("tasks", {"percent_complete": True}, [("type", ["percent_complete"])]),  # TRUE is no 100%
    ("tasks", {"percent_complete": "half"}, [("type", ["percent_complete"])]),
    ("tasks", {"duration_days": 4.5}, [("type", ["duration_days"])]),
    ("tasks", {"duration_days": -1}, [("minimum", ["duration_days"])]),
    ("tasks", {"finish_slip_days": -1}, []),  # the same kind of column without a minimum
    ("tasks", {"task_id": "1..2"}, [("pattern", ["task_id"])]),
    ("tasks", {"task_name": ""}, [("minLength", ["task_name"])]),
    ("tasks", {"task_name": "x" * 201}, [("maxLength", ["task_name"])]),
    ("tasks", {"status": "in progress"}, [("enum", ["status"])]),
    ("tasks", {"status": "Done", "start": "soon"}, [("format", ["start"]), ("enum", ["status"])]),
    ("project", {"pm_email": "ana.example.com"}, [("format", ["pm_email"]), ("pattern", ["pm_email"])]),
    ("project", {"pm_email": "ana@example"}, [("pattern", ["pm_email"])]),
    ("project", {"approved_budget": -1}, [("minimum", ["approved_budget"])]),
    ("project", {"currency": "EURO"}, [("enum", ["currency"])]),
    ("risks", {"probability": 6}, [("enum", ["probability"])]),
    ("risks", {"probability": True}, [("type", ["probability"]), ("enum", ["probability"])]),
    ("risks", {"probability": 3.0}, []),  # an integral float is an integer in JSON Schema
    ("risks", {"score": 26}, [("maximum", ["score"])]),
    ("budget", {"budget": "1.200,50"}, [("type", ["budget"])]),
    ("budget", {"eac": "#VALUE!"}, [("type", ["eac"])]),
    ("changes", {"schedule_impact_days": 3651}, [("maximum", ["schedule_impact_days"])]),
    ("raid", {"depends_on": "P"}, [("pattern", ["depends_on"])]),
    ("resources", {"allocation": 1.5}, [("maximum", ["allocation"])]),
    ("status", {"summary": "s" * 2001}, [("maxLength", ["summary"])]),
])
def test_a_wrong_value_is_reported_at_its_field_with_what_it_breaks(table: str, change: dict[str, Any],
                                                                     expected: list[tuple[str, list[str]]]) -> None:
    rows = [VALID[table], {**VALID[table], **change}, VALID[table]]
    assert errors(table, rows) == [(1, keyword, fields) for keyword, fields in expected]


def test_missing_required_fields_are_each_named() -> None:
    row = {k: v for k, v in VALID["budget"].items() if k not in ("currency", "period", "description")}
    # jsonschema reports each missing field apart; each such error names every missing one (validate keeps one)
    assert errors("budget", [row]) == [(0, "required", ["period", "currency"])] * 2
    tasks = [{k: v for k, v in VALID["tasks"].items() if k != name} for name in ("task_id", "finish", "owner")]
    assert errors("tasks", tasks) == [(0, "required", ["task_id"]), (1, "required", ["finish"])]


def test_a_value_judged_once_is_judged_the_same_in_another_row_and_another_column_of_its_kind() -> None:
    # Start and Finish share one check and one memory of verdicts; 1, 1.0 and True are remembered apart.
    base = VALID["tasks"]
    rows = [{**base, "finish": "2026-03-09"}, {**base, "start": "2026-03-09", "finish": "2026-03-10"},
            {**base, "start": "2026-03-10", "finish": "2026-02-30"}, {**base, "baseline_finish": "2026-02-30"},
            {**base, "percent_complete": 1}, {**base, "percent_complete": True}, {**base, "percent_complete": 1.0}]
    assert errors("tasks", rows) == [(2, "format", ["finish"]), (3, "format", ["baseline_finish"]),
                                     (5, "type", ["percent_complete"])]
    assert gate_verdicts(load_tables()["tasks"], rows) == [True, True, False, False, True, False, True]


def test_a_field_the_schema_does_not_describe_is_allowed_and_hides_no_error_after_it() -> None:
    row = {"notes": "typed beside the table", **VALID["tasks"], "finish": "2026-02-30"}
    assert errors("tasks", [row]) == [(0, "format", ["finish"])]
    assert errors("tasks", [{"notes": "x", **VALID["tasks"]}]) == []


def crafted(schema: dict[str, Any]) -> TableSpec:
    return dataclasses.replace(load_tables()["tasks"], name="crafted", schema=schema)


def test_a_schema_that_forbids_other_fields_is_checked_row_by_row() -> None:
    schema = {**load_tables()["tasks"].schema, "additionalProperties": False}
    spec = crafted(schema)
    rows = [VALID["tasks"], {**VALID["tasks"], "notes": "x"}, {**VALID["tasks"], "start": "2026-02-30"}]
    assert errors("tasks", rows, spec) == [(1, "additionalProperties", []), (2, "format", ["start"])]
    assert gate_verdicts(spec, rows) == [True, False, False]


def test_a_schema_with_references_is_checked_row_by_row() -> None:
    schema = {"type": "object", "required": ["day"], "$defs": {"date": {"type": "string", "format": "date"}},
              "properties": {"day": {"$ref": "#/$defs/date"}, "other": {"items": [{"$ref": "#/$defs/date"}]}}}
    spec = crafted(schema)
    rows = [{"day": "2026-03-01"}, {"day": "2026-02-30"}, {}]
    assert errors("tasks", rows, spec) == [(1, "format", ["day"]), (2, "required", ["day"])]
    assert gate_verdicts(spec, rows) == [True, False, False]


def test_a_row_schema_with_other_row_keywords_is_not_split_into_columns() -> None:
    schema = {**load_tables()["tasks"].schema, "minProperties": 5}
    spec = crafted(schema)
    rows = [VALID["tasks"], {"task_id": "1", "task_name": "n", "start": "2026-03-02", "finish": "2026-03-03"}]
    assert errors("tasks", rows, spec) == [(1, "minProperties", [])]
    not_an_object = crafted({**load_tables()["tasks"].schema, "type": ["object"]})
    assert errors("tasks", rows, not_an_object) == []
    assert gate_verdicts(not_an_object, rows) == [True, True]


def test_without_fastjsonschema_as_in_the_excel_add_in_the_same_errors_are_reported(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "fastjsonschema", None)  # what Pyodide lacks: the import fails
    spec = crafted(load_tables()["tasks"].schema)
    rows = [VALID["tasks"], {**VALID["tasks"], "start": "2026-02-30"}]
    assert errors("tasks", rows, spec) == [(1, "format", ["start"])]
    assert gate_verdicts(spec, rows) == [True, False]


def test_full_validator_asserts_formats() -> None:
    validator = full_validator({"type": "string", "format": "date"})
    assert validator.is_valid("2026-02-28")
    assert not validator.is_valid("2026-02-30")


def test_every_table_of_ours_is_gated_column_by_column() -> None:
    # The fast path: each distinct value of a column judged once. A schema the gate cannot split into
    # columns is still checked right (the tests above), row by row and slower.
    assert all(schema_check._separable(spec.schema) for spec in load_tables().values())


@pytest.mark.parametrize(("schema", "separable"), [
    ({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"], "x-sheet": "S", "title": "t"}, True),
    ({"type": "object"}, True),
    ({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False}, False),
    ({"type": "object", "properties": {"a": {"type": "string"}}, "X-sheet": "S"}, False),
    ({"type": "array", "properties": {"a": {"type": "string"}}}, False),
    ({"properties": {"a": {"type": "string"}}}, False),
    ({"type": "object", "properties": [{"type": "string"}]}, False),
    ({"type": "object", "properties": {"a": True}}, False),
    ({"type": "object", "properties": {"a": {"$ref": "#/$defs/d"}}}, False),
    ({"type": "object", "properties": {"a": {"anyOf": [{"type": "null"}, {"$dynamicRef": "#d"}]}}}, False),
    ({"type": "object", "properties": {"a": {"items": {"$recursiveRef": "#"}}}}, False),
    ({"type": "object", "properties": {"a": {"enum": ["$ref", 1, None], "title": "$ref"}}}, True),
])
def test_a_schema_is_split_into_columns_only_when_each_value_can_be_judged_alone(schema: dict[str, Any],
                                                                                separable: bool) -> None:
    assert schema_check._separable(schema) is separable


def test_checking_rows_never_changes_them() -> None:
    # A schema default must not be written into the records (the master would show a value nobody typed).
    schema = {"type": "object", "additionalProperties": False,
              "properties": {"a": {"type": "string", "default": "typed by nobody"}, "b": {"type": "integer"}}}
    rows: list[dict[str, Any]] = [{}, {"b": 2}]
    assert errors("tasks", rows, crafted(schema)) == []
    assert rows == [{}, {"b": 2}]


def test_columns_without_annotations_are_judged_each_by_its_own_rules() -> None:
    spec = crafted({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"},
                                                     "c": {"type": "integer", "title": "C"}}})
    rows = [{"a": "x", "b": 2, "c": 3}, {"a": "x", "b": "x", "c": "y"}]
    assert errors("tasks", rows, spec) == [(1, "type", ["b"]), (1, "type", ["c"])]
    assert gate_verdicts(spec, rows) == [True, False]


def test_a_row_schema_without_required_fields_or_without_properties() -> None:
    optional = crafted({"type": "object", "properties": {"a": {"type": "integer"}}})
    assert errors("tasks", [{}, {"a": 1}, {"a": "x"}], optional) == [(2, "type", ["a"])]
    anything = crafted({"type": "object", "required": ["a"]})
    assert errors("tasks", [{"a": "x"}, {"b": 1}], anything) == [(1, "required", ["a"])]
