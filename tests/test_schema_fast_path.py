"""The fast schema check reports exactly what plain per-row jsonschema validation reports.

``schema_check.row_errors`` lets a compiled fastjsonschema validator wave through the rows it accepts and
asks jsonschema only about the others. That is only right if the gate never accepts a row jsonschema
would reject: generated rows (valid values, wrong types, booleans, numbers out of range, impossible
dates, near misses of a list's values, missing required fields) show it for every table.
"""

from __future__ import annotations

import random
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from pmo_sheets.schema_check import error_fields, full_validator, row_errors
from pmo_sheets.schemas import TableSpec, load_tables

pytestmark = pytest.mark.usefixtures("fresh_schema_gates")

BAD_DATES = ["2026-02-30", "2026-13-01", "2026-00-10", "31/03/2026", "2026-3-1", "20260301", "2026-02-28T10:00", ""]
EMAILS = ["ana@example.com", "ana.example.com", "ana@", "@example.com", "a b@example.com", ""]


def _near_misses(value: Any) -> list[Any]:
    """Values a user might type instead of a list's value: another case, stray spaces, a neighbour."""
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value - 1, value + 1, float(value), value + 0.5, str(value), value == 1]
    text = str(value)
    return [text.lower(), text.upper(), f"{text} ", text[:-1], f"{text}s"]


def valid_values(prop: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values a careful user types into the column (nearly always valid)."""
    if prop.get("enum") is not None:
        return st.sampled_from(prop["enum"])
    if prop.get("format") == "date":
        return st.dates().map(lambda d: d.isoformat())
    if prop.get("format") == "email":
        return st.sampled_from(["ana@example.com", "b.okafor@example.org"])
    if prop.get("type") == "integer":
        return st.integers(prop.get("minimum", -1000), prop.get("maximum", 10_000))
    if prop.get("type") == "number":
        low, high = prop.get("minimum", -1e6), prop.get("maximum", 1e6)
        return st.one_of(st.integers(int(low), int(high)), st.floats(low, high, allow_nan=False))
    if "pattern" in prop:  # IDs of the shapes the patterns allow (sampled: from_regex is slow to draw)
        return st.sampled_from(["1", "1.2", "2.10.3", "PRJ-0042", "R-001", "CC-1001", "L01", "a_b"])
    return st.sampled_from(["Ana Silva", "Deliverable 1", "Weekly check-in", "x", "Ünïcode ✓", "a" * 80])


def tricky_values(prop: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Wrong types, booleans, out-of-range numbers, impossible dates, near misses of the list's values."""
    options: list[st.SearchStrategy[Any]] = [
        st.one_of(st.booleans(), st.none(), st.integers(-3, 30), st.floats(-1e6, 1e6), st.text(max_size=6),
                  st.just("#REF!")),
    ]
    enum = prop.get("enum")
    if prop.get("type") in ("number", "integer"):
        options.append(st.sampled_from([0, 1, 0.0, 1.0, True, False]))  # equal in Python, not in JSON Schema
    if enum is not None:
        options.append(st.sampled_from([m for v in enum for m in _near_misses(v)]))
    elif prop.get("format") == "date":
        options.append(st.sampled_from(BAD_DATES))
    elif prop.get("format") == "email":
        options.append(st.sampled_from(EMAILS))
    elif prop.get("type") in ("number", "integer"):
        low, high = prop.get("minimum", -1000), prop.get("maximum", 10_000)
        options.append(st.sampled_from([low - 1, high + 1, low - 1e-9, high + 1e-9, float(high), -0.0, 2.5]))
    else:
        if "pattern" in prop:
            options.append(st.sampled_from(["A B", "-1", ".", "1..2", "1.2\n", " 1", "ü1", "x" * 40]))
        longest = prop.get("maxLength")
        if longest is not None:
            options.append(st.sampled_from(["x" * longest, "x" * (longest + 1), "ß" * (longest + 1)]))
        options.append(st.just(""))
    return st.one_of(options)


@cache
def _field_strategies(table: str) -> dict[str, tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]]:
    properties = load_tables()[table].schema["properties"]
    return {name: (valid_values(prop), tricky_values(prop)) for name, prop in properties.items()}


@st.composite
def rows_strategy(draw: st.DrawFn, spec: TableSpec) -> list[dict[str, Any]]:
    """A batch of rows, mostly valid, each with up to two fields wrong or missing.

    Each column repeats a few values, as real tables do: the gate remembers its verdict per distinct
    value of a column, so values that Python thinks equal and JSON Schema does not (1, 1.0, True) must
    meet in one batch, in rows that are otherwise valid.
    """
    fields = _field_strategies(spec.name)
    names = list(fields)
    valid = {name: draw(st.lists(good, min_size=1, max_size=2)) for name, (good, _) in fields.items()}
    tricky = {name: draw(st.lists(bad, min_size=1, max_size=2)) for name, (_, bad) in fields.items()}
    rng = random.Random(draw(st.integers(0, 2**32)))  # rows assembled from the pools: one draw, still replayable
    rows = []
    for _ in range(rng.randint(1, 6)):
        row = {name: rng.choice(valid[name]) for name in names if name in spec.required or rng.random() < 0.7}
        for name in rng.sample(names, rng.randint(0, 2)):
            choice = rng.choice([None, *tricky[name]])
            if choice is None:
                row.pop(name, None)
            else:
                row[name] = choice
        rows.append(row)
    return rows


@cache
def _reference_validator(table: str) -> Draft202012Validator:
    return full_validator(load_tables()[table].schema)


def reference(spec: TableSpec, rows: list[dict[str, Any]]) -> set[tuple[int, str]]:
    """(row index, field) of every error, validating each row with jsonschema alone."""
    validator = _reference_validator(spec.name)
    return {(index, name) for index, row in enumerate(rows) for error in validator.iter_errors(row)
            for name in error_fields(error, row)}


def fast(spec: TableSpec, rows: list[dict[str, Any]]) -> set[tuple[int, str]]:
    return {(index, name) for index, error in row_errors(spec, rows) for name in error_fields(error, rows[index])}


@pytest.mark.parametrize("table", list(load_tables()))
def test_the_fast_path_reports_the_same_cells_as_jsonschema(table: str) -> None:
    spec = load_tables()[table]

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(rows=rows_strategy(spec))  # type: ignore[call-arg]
    def check(rows: list[dict[str, Any]]) -> None:
        assert fast(spec, rows) == reference(spec, rows)

    check()


@pytest.mark.parametrize(("table", "row", "fields"), [
    ("risks", {"risk_id": "R-1", "title": "t", "probability": True, "impact": 3, "status": "Open"}, {"probability"}),
    ("risks", {"risk_id": "R-1", "title": "t", "probability": 3.0, "impact": 3, "status": "Open"}, set()),
    ("tasks", {"task_id": "1.1", "task_name": "n", "start": "2026-02-30", "finish": "2026-03-01"}, {"start"}),
    ("tasks", {"task_id": "1.1", "task_name": "n", "start": "2026-03-01", "finish": "2026-03-02",
               "percent_complete": 1.0000001}, {"percent_complete"}),
    ("project", {"project_id": "PRJ-1", "project_name": "n", "project_manager": "m", "start_date": "2026-01-01",
                 "finish_date": "2026-02-01", "status": "in progress", "currency": "USD"}, {"status"}),
    ("budget", {"line_id": "L1", "category": "Labour", "cost_center": "CC-1", "period": "2026-01-01"},
     {"currency", "budget"}),
], ids=["bool-is-not-a-probability", "integral-float-is-an-integer", "no-30-february", "just-over-100-percent",
        "list-value-case", "missing-required"])
def test_known_tricky_rows(table: str, row: dict[str, Any], fields: set[str]) -> None:
    spec = load_tables()[table]

    assert fast(spec, [row]) == reference(spec, [row]) == {(0, name) for name in fields}


RISK = {"risk_id": "R-1", "title": "t", "impact": 3, "status": "Open"}
TASK = {"task_id": "1.1", "task_name": "n", "start": "2026-03-01", "finish": "2026-03-02"}


@pytest.mark.parametrize(("table", "rows", "expected"), [
    ("risks", [{**RISK, "probability": 1}, {**RISK, "probability": True}], {(1, "probability")}),
    ("risks", [{**RISK, "probability": 2.0}, {**RISK, "probability": 2}], set()),
    ("tasks", [{**TASK, "percent_complete": 0}, {**TASK, "percent_complete": False}], {(1, "percent_complete")}),
    ("tasks", [{**TASK, "percent_complete": 1}, {**TASK, "percent_complete": True}], {(1, "percent_complete")}),
], ids=["true-after-1", "2.0-then-2", "false-after-0", "true-after-100-percent"])
def test_values_python_thinks_equal_are_judged_apart(table: str, rows: list[dict[str, Any]],
                                                     expected: set[tuple[int, str]]) -> None:
    spec = load_tables()[table]

    assert fast(spec, rows) == reference(spec, rows) == expected
