"""The Office add-in parts of an .xlsx: a task-pane add-in that opens with the workbook, and its settings.

An Office (Office.js) add-in saves its per-workbook settings (``Office.context.document.settings``)
inside the file, and a workbook can name a task-pane add-in to open with it. Both live in these
OOXML parts, which this module writes into an existing .xlsx (openpyxl neither reads nor keeps them):

- ``xl/webextensions/webextension1.xml``: the add-in's store reference and its settings, one
  ``<we:property>`` each, the value JSON-encoded the way Office.js stores it;
- ``xl/webextensions/taskpanes.xml`` (+ its ``_rels``): the task pane, docked right and visible;
- a ``webextensiontaskpanes`` relationship in ``_rels/.rels`` and two overrides in
  ``[Content_Types].xml``.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET
from xml.sax.saxutils import quoteattr

WE = "http://schemas.microsoft.com/office/webextensions/webextension/2010/11"
WETP = "http://schemas.microsoft.com/office/webextensions/taskpanes/2010/11"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
TASKPANES_REL = "http://schemas.microsoft.com/office/2011/relationships/webextensiontaskpanes"
WEBEXTENSION_REL = "http://schemas.microsoft.com/office/2011/relationships/webextension"
TASKPANES_PART = "xl/webextensions/taskpanes.xml"
TASKPANES_RELS_PART = "xl/webextensions/_rels/taskpanes.xml.rels"
WEBEXTENSION_PART = "xl/webextensions/webextension1.xml"
_CONTENT_TYPE = {
    TASKPANES_PART: "application/vnd.ms-office.webextensiontaskpanes+xml",
    WEBEXTENSION_PART: "application/vnd.ms-office.webextension+xml",
}
#: Office's own setting that reopens the task pane every time the workbook opens.
AUTO_SHOW_TASKPANE = "Office.AutoShowTaskpaneWithDocument"

ET.register_namespace("we", WE)
ET.register_namespace("wetp", WETP)
ET.register_namespace("r", R)


@dataclass(frozen=True)
class StoreAddin:
    """An add-in from Microsoft's add-in store (AppSource), as a workbook refers to it."""

    asset_id: str  # such as "WA200008175"
    version: str = "1.0.0.0"
    store: str = "en-US"


_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _xml(element: ET.Element) -> bytes:
    return (_DECLARATION + ET.tostring(element, encoding="unicode")).encode("utf-8")


def _package_xml(root: str, namespace: str, children: list[tuple[str, dict[str, str]]]) -> bytes:
    """A package part in its default namespace, as Excel writes them (ElementTree would add a prefix)."""
    items = "".join(f"<{tag}{''.join(f' {k}={quoteattr(v)}' for k, v in attributes.items())}/>"
                    for tag, attributes in children)
    return f'{_DECLARATION}<{root} xmlns="{namespace}">{items}</{root}>'.encode()


def webextension_xml(addin: StoreAddin, settings: dict[str, Any], extension_id: str) -> bytes:
    """The add-in part: its store reference and its settings, each value JSON-encoded."""
    root = ET.Element(f"{{{WE}}}webextension", {"id": f"{{{extension_id.upper()}}}"})
    ET.SubElement(root, f"{{{WE}}}reference", {"id": addin.asset_id, "version": addin.version,
                                               "store": addin.store, "storeType": "OMEX"})
    ET.SubElement(root, f"{{{WE}}}alternateReferences")
    properties = ET.SubElement(root, f"{{{WE}}}properties")
    for name, value in settings.items():
        ET.SubElement(properties, f"{{{WE}}}property", {"name": name, "value": json.dumps(value, ensure_ascii=False)})
    ET.SubElement(root, f"{{{WE}}}bindings")
    ET.SubElement(root, f"{{{WE}}}snapshot")
    return _xml(root)


def taskpanes_xml(width: int = 438) -> bytes:
    """The task-pane part: one pane, docked right, open when the workbook opens."""
    root = ET.Element(f"{{{WETP}}}taskpanes")
    pane = ET.SubElement(root, f"{{{WETP}}}taskpane",
                         {"dockstate": "right", "visibility": "1", "width": str(width), "row": "1"})
    ET.SubElement(pane, f"{{{WETP}}}webextensionref", {f"{{{R}}}id": "rId1"})
    return _xml(root)


def _relationships(relationships: list[dict[str, str]]) -> bytes:
    return _package_xml("Relationships", PACKAGE_RELS, [("Relationship", attributes) for attributes in relationships])


def _with_package_relationship(rels: bytes) -> bytes:
    """``_rels/.rels`` with a relationship to the task panes (replacing an earlier one), the others as they were."""
    kept = [dict(r.attrib) for r in ET.fromstring(rels) if r.get("Type") != TASKPANES_REL]
    used = {r.get("Id") for r in kept}
    rel_id = next(f"rId{n}" for n in range(1, len(used) + 2) if f"rId{n}" not in used)
    return _relationships([*kept, {"Id": rel_id, "Type": TASKPANES_REL, "Target": TASKPANES_PART}])


def _with_content_types(types: bytes) -> bytes:
    """``[Content_Types].xml`` with overrides for the two parts (replacing any under xl/webextensions/)."""
    kept = [(entry.tag.rpartition("}")[2], dict(entry.attrib)) for entry in ET.fromstring(types)
            if not entry.get("PartName", "").startswith("/xl/webextensions/")]
    added = [("Override", {"PartName": f"/{part}", "ContentType": content_type}) for part, content_type in _CONTENT_TYPE.items()]
    return _package_xml("Types", CONTENT_TYPES, kept + added)


def add_taskpane_addin(xlsx: bytes, addin: StoreAddin, settings: dict[str, Any], extension_id: str) -> bytes:
    """The same .xlsx with ``addin`` opening in a task pane and ``settings`` saved as its document settings.

    An add-in already in the file is replaced. New parts take the date of the file's first entry, so
    the same input always gives the same bytes.
    """
    new_parts = {
        WEBEXTENSION_PART: webextension_xml(addin, settings, extension_id),
        TASKPANES_PART: taskpanes_xml(),
        TASKPANES_RELS_PART: _relationships([{"Id": "rId1", "Type": WEBEXTENSION_REL, "Target": "webextension1.xml"}]),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        entries = [info for info in source.infolist() if not info.filename.startswith("xl/webextensions/")]
        stamp = entries[0].date_time
        for info in entries:
            content = source.read(info.filename)
            if info.filename == "_rels/.rels":
                content = _with_package_relationship(content)
            elif info.filename == "[Content_Types].xml":
                content = _with_content_types(content)
            target.writestr(info, content, compress_type=zipfile.ZIP_DEFLATED)
        for name, content in new_parts.items():
            target.writestr(zipfile.ZipInfo(name, stamp), content, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _webextension(xlsx: bytes) -> ET.Element | None:
    """The parsed add-in part of an .xlsx; None when it has none."""
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        if WEBEXTENSION_PART not in archive.namelist():
            return None
        return ET.fromstring(archive.read(WEBEXTENSION_PART))


def read_addin_settings(xlsx: bytes) -> dict[str, Any] | None:
    """The document settings of the workbook's task-pane add-in, decoded; None when it has none."""
    root = _webextension(xlsx)
    if root is None:
        return None
    return {p.get("name", ""): json.loads(p.get("value", "null")) for p in root.iter(f"{{{WE}}}property")}


def addin_reference(xlsx: bytes) -> StoreAddin | None:
    """The store add-in the workbook opens in its task pane; None when it names none."""
    root = _webextension(xlsx)
    reference = None if root is None else root.find(f"{{{WE}}}reference")
    if reference is None:
        return None
    return StoreAddin(reference.get("id", ""), reference.get("version", ""), reference.get("store", ""))
