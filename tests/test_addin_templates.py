"""Templates that carry the xlwings Lite add-in: open one in Excel and Validate is there.

xlwings Lite keeps a workbook's ``main.py`` and ``requirements.txt`` as the add-in's document
settings inside the .xlsx. ``workbook_templates/with-addin/`` holds each template with the add-in
named as its task pane and our self-contained ``main.py`` in those settings; ``pmo new --addin``
makes a workbook from it and ``pmo lite`` writes the same two files for pasting by hand.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from openpyxl import load_workbook
from workbooks import located, pmo, report_of

from pmo_sheets.addin.bundle import XLWINGS_LITE, lite_main, lite_requirements, with_lite_scripts
from pmo_sheets.schemas import KINDS
from pmo_sheets.templates import template_path
from pmo_sheets.webextension import (
    AUTO_SHOW_TASKPANE,
    TASKPANES_PART,
    TASKPANES_RELS_PART,
    WEBEXTENSION_PART,
    addin_reference,
    read_addin_settings,
)


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def relationship_targets(data: dict[str, bytes]) -> list[str]:
    """Every internal relationship target in the package, resolved to a part name."""
    targets = []
    for name, content in data.items():
        if not name.endswith(".rels"):
            continue
        base = posixpath.dirname(posixpath.dirname(name))
        for rel in ET.fromstring(content):
            if rel.get("TargetMode") != "External":
                targets.append(posixpath.normpath(posixpath.join(base, rel.get("Target", ""))).lstrip("/"))
    return targets


@pytest.mark.parametrize("kind", list(KINDS))
def test_an_addin_template_is_the_plain_template_plus_the_lite_addin_and_its_code(kind: str) -> None:
    plain, carrying = parts(template_path(kind)), parts(template_path(kind, addin=True))

    assert carrying.keys() - plain.keys() == {WEBEXTENSION_PART, TASKPANES_PART, TASKPANES_RELS_PART}
    assert {name for name in plain if plain[name] != carrying[name]} == {"_rels/.rels", "[Content_Types].xml"}
    xlsx = template_path(kind, addin=True).read_bytes()
    assert addin_reference(xlsx) == XLWINGS_LITE
    settings = read_addin_settings(xlsx)
    assert settings is not None
    assert settings["main.py"] == lite_main()
    assert settings["requirements.txt"] == lite_requirements()
    assert settings[AUTO_SHOW_TASKPANE] is True
    assert load_workbook(io.BytesIO(xlsx)).sheetnames == load_workbook(template_path(kind)).sheetnames


def test_the_package_points_at_every_addin_part_and_types_it() -> None:
    data = parts(template_path("plan", addin=True))

    targets = relationship_targets(data)
    assert {TASKPANES_PART, WEBEXTENSION_PART} <= set(targets)
    assert all(target in data for target in targets)
    types = {o.get("PartName"): o.get("ContentType") for o in ET.fromstring(data["[Content_Types].xml"])}
    assert types[f"/{TASKPANES_PART}"] == "application/vnd.ms-office.webextensiontaskpanes+xml"
    assert types[f"/{WEBEXTENSION_PART}"] == "application/vnd.ms-office.webextension+xml"


def test_pmo_new_addin_makes_a_workbook_with_the_addin_and_its_own_id(tmp_path: Path) -> None:
    first, second, plain = tmp_path / "a.xlsx", tmp_path / "b.xlsx", tmp_path / "plain.xlsx"
    for target, extra in ((first, ["--addin"]), (second, ["--addin"]), (plain, [])):
        result = pmo("new", "plan", "--project-id", "PRJ-0042", "--name", "New CRM", "-o", str(target), *extra)
        assert result.exit_code == 0, result.stderr

    assert "with the xlwings Lite add-in" in pmo("new", "plan", "--project-id", "PRJ-1", "--name", "N", "--addin",
                                                 "-o", str(tmp_path / "c.xlsx")).stdout
    ids = [read_addin_settings(path.read_bytes())["xlwingsWorkbookId"] for path in (first, second)]  # type: ignore[index]
    template_id = read_addin_settings(template_path("plan", addin=True).read_bytes())["xlwingsWorkbookId"]  # type: ignore[index]
    assert len({*ids, template_id}) == 3
    assert read_addin_settings(plain.read_bytes()) is None
    # the add-in changes nothing the validator sees
    assert located(report_of(first).findings) == located(report_of(plain).findings)


def test_pmo_lite_writes_the_code_the_templates_carry(tmp_path: Path) -> None:
    result = pmo("lite", str(tmp_path / "lite"))

    assert result.exit_code == 0, result.stderr
    settings = read_addin_settings(template_path("risk_log", addin=True).read_bytes())
    assert settings is not None
    assert (tmp_path / "lite" / "main.py").read_text(encoding="utf-8") == settings["main.py"]
    assert (tmp_path / "lite" / "requirements.txt").read_text(encoding="utf-8") == settings["requirements.txt"]


def test_pmo_lite_does_not_overwrite_files_unless_forced(tmp_path: Path) -> None:
    target = tmp_path / "lite"
    target.mkdir()
    (target / "main.py").write_text("# my own edits\n")

    refused = pmo("lite", str(target))
    forced = pmo("lite", str(target), "--force")

    assert refused.exit_code == 2 and "already exists; add --force" in refused.stderr
    assert forced.exit_code == 0
    assert (target / "main.py").read_text(encoding="utf-8") == lite_main()


def test_adding_the_addin_again_replaces_it_instead_of_adding_a_second(tmp_path: Path) -> None:
    carrying = template_path("plan", addin=True).read_bytes()

    again = with_lite_scripts(carrying, workbook_id="0f0e0d0c-0b0a-4908-8706-050403020100")

    with zipfile.ZipFile(io.BytesIO(again)) as archive:
        names = archive.namelist()
    assert len(names) == len(set(names)) == len(parts(template_path("plan", addin=True)))
    data = {name: zipfile.ZipFile(io.BytesIO(again)).read(name) for name in names}
    assert relationship_targets(data).count(TASKPANES_PART) == 1
    assert read_addin_settings(again)["xlwingsWorkbookId"] == "0f0e0d0c-0b0a-4908-8706-050403020100"  # type: ignore[index]
