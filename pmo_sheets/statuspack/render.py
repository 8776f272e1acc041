"""The status pack as HTML (Jinja2, charts as inline SVG from matplotlib) and as PDF (WeasyPrint)."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from pathlib import Path
from typing import Any

from pmo_sheets.config import PortfolioConfig
from pmo_sheets.statuspack.data import PackData, read_pack

RAG_COLOURS = {"Green": "#63BE7B", "Amber": "#FFC000", "Red": "#E06666"}
#: Each paragraph of a status report's narrative shows at most this many characters, so that a project
#: keeps to one page; a longer text ends with a pointer to the workbook's Status sheet.
NARRATIVE_CHARACTERS = 300


_charts = itertools.count(1)


def _svg(figure: Any) -> str:
    """A matplotlib figure as an inline <svg> element (no file, no network).

    Text stays text (svg.fonttype none: selectable, and read back by the tests), and the element IDs
    get a prefix of their own, since many charts share one HTML page.
    """
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    with plt.rc_context({"svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    text = buffer.getvalue()
    prefix = f"c{next(_charts)}-"
    text = text[text.index("<svg"):]
    return text.replace('id="', f'id="{prefix}').replace("url(#", f"url(#{prefix}").replace('href="#', f'href="#{prefix}')


def _thousands(value: float, _position: Any = None) -> str:
    return f"{value:,.0f}"


def _bar_chart(labels: list[str], series: dict[str, list[float]], *, title: str, currency: str,
               size: tuple[float, float]) -> str:
    import matplotlib

    matplotlib.use("Agg")  # no display: a server or a cron job
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    figure, axes = plt.subplots(figsize=size)
    width = 0.8 / max(len(series), 1)
    colours = ["#1F4E78", "#ED7D31", "#A5A5A5"]
    for i, (name, values) in enumerate(series.items()):
        axes.bar([x + i * width for x in range(len(labels))], values, width, label=name, color=colours[i % 3])
    axes.set_xticks([x + width * (len(series) - 1) / 2 for x in range(len(labels))], labels, fontsize=8,
                    rotation=15 if len(labels) > 3 else 0)
    axes.yaxis.set_major_formatter(FuncFormatter(_thousands))
    axes.set_ylabel(currency)
    axes.set_title(title, fontsize=10)
    axes.legend(fontsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def _money(value: Any) -> str:
    return "" if value in (None, "") else f"{float(value):,.2f}"


def _percent(value: Any) -> str:
    return "" if value in (None, "") else f"{float(value):.0%}"


def _date(value: Any) -> str:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.strftime("%Y-%m-%d")
    return "" if value is None else str(value)


def pack_html(pack: PackData) -> str:
    """The pack's HTML from its content."""
    from jinja2 import Environment, PackageLoader

    # Every value escaped (names and narratives are typed by PMs); only our own SVG charts go in as they are.
    env = Environment(loader=PackageLoader("pmo_sheets.statuspack", "templates"), autoescape=True)
    env.filters.update(money=_money, percent=_percent, date=_date)
    programs = [p for p in pack.programs if p.get("Program") is not None]
    program_chart = _bar_chart([str(p["Program"]) for p in programs],
                               {"Budget": [float(p.get("Budget") or 0) for p in programs],
                                "EAC": [float(p.get("EAC") or 0) for p in programs]},
                               title=f"Budget vs EAC by program ({pack.currency})", currency=pack.currency,
                               size=(7.0, 2.8)) if programs else ""
    charts = {page.row["Project ID"]: _bar_chart(
        ["Budget", "Actuals", "Forecast", "EAC"],
        {pack.currency: [float(page.row.get(k) or 0) for k in ("Budget", "Actuals", "Forecast", "EAC")]},
        title=f"Budget, actuals, forecast and EAC ({pack.currency})", currency=pack.currency, size=(5.0, 2.2))
        for page in pack.projects}
    return env.get_template("pack.html.j2").render(pack=pack, program_chart=program_chart, charts=charts,
                                                   rag_colours=RAG_COLOURS, NARRATIVE_CHARACTERS=NARRATIVE_CHARACTERS)


def render_html(config: PortfolioConfig, *, today: dt.date | None = None) -> str:
    """The status pack of ``config``'s portfolio as one self-contained HTML page (what ``pmo serve`` can show)."""
    return pack_html(read_pack(config, today=today))


def render_pdf(config: PortfolioConfig, target: Path, *, today: dt.date | None = None) -> Path:
    """Write the status pack as a PDF: a summary page, then one page per project."""
    from weasyprint import HTML

    html = render_html(config, today=today)
    target.parent.mkdir(parents=True, exist_ok=True)
    HTML(string=html, base_url=str(config.base)).write_pdf(target)
    return target
