"""Render validation reports as text for people and JSON for scripts (the DESIGN.md contract)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from pmo_sheets.validate import WorkbookReport


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def text_report(reports: Iterable[WorkbookReport]) -> str:
    """One block per file (its findings, one per line, with the clickable location), then a summary."""
    reports = list(reports)
    lines = []
    for report in reports:
        what = ", ".join(x for x in (
            f"{report.template} {report.template_version or '?'}" if report.template else "",
            report.project_id or "") if x)
        status = "valid" if report.valid else _plural(report.errors, "error")
        if report.warnings:
            status += ", " + _plural(report.warnings, "warning")
        lines.append(f"{report.source}{f' ({what})' if what else ''}: {status}")
        for item in report.findings:
            location = item.location or "(file)"
            lines.append(f"  {item.severity:<7}  {location:<12}  {item.rule:<26}  {item.message}")
        if report.omitted:
            counts = ", ".join(f"{rule} {number:,}" for rule, number in report.omitted_by_rule.items())
            lines.append(f"  ... and {sum(report.omitted.values()):,} more findings not listed ({counts})")
    valid = sum(1 for r in reports if r.valid)
    lines.append("")
    lines.append(f"{_plural(len(reports), 'file')} checked: {valid} valid, {len(reports) - valid} with errors")
    return "\n".join(lines)


def json_report(reports: Iterable[WorkbookReport]) -> str:
    """``{"files": [...]}`` exactly as DESIGN.md states."""
    return json.dumps({"files": [r.to_dict() for r in reports]}, indent=2, ensure_ascii=False)
