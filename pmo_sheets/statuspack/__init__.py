"""The portfolio status pack: one summary page and one page per project, as HTML or PDF.

Read by people who never open a data sheet (a steering committee, a sponsor, a CFO). Every figure comes
from the master workbook's cached values, the numbers finance audits, so the pack can never disagree
with the master it sits beside. Jinja2 renders the HTML (which ``pmo serve`` can show as it is),
matplotlib draws the charts as inline SVG (no image files, works offline), and WeasyPrint turns the same
HTML into a PDF: one template for both forms, with CSS paged media for the page breaks.

Libraries: Jinja2 (autoescaping templates, already used by the service), matplotlib (the reference
charting library, SVG output without a display), WeasyPrint (HTML + CSS to PDF, no browser needed;
it uses pango from the system).
"""

from __future__ import annotations

from pmo_sheets.statuspack.data import PackData, ProjectPage, read_pack
from pmo_sheets.statuspack.render import render_html, render_pdf

__all__ = ["PackData", "ProjectPage", "read_pack", "render_html", "render_pdf"]
