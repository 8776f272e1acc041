"""The add-in tests drive tests/xlwings_adapter.py instead of Excel: it stays honest only while it offers
nothing that xlwings' own object model lacks. Checked against the real classes of the installed xlwings
(no licence key, no Excel needed), so a renamed method or a changed signature in xlwings fails here.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
import xlwings.main as xw_main
from xlwings_adapter import (
    AdapterApp,
    AdapterBook,
    AdapterBooks,
    AdapterRange,
    AdapterSheet,
    AdapterSheets,
    _FontProxy,
)

import pmo_sheets.addin

PAIRS = [(AdapterApp, xw_main.App), (AdapterBooks, xw_main.Books), (AdapterBook, xw_main.Book), (AdapterSheets, xw_main.Sheets),
         (AdapterSheet, xw_main.Sheet), (AdapterRange, xw_main.Range), (_FontProxy, xw_main.Font)]
DUNDERS = {"__len__", "__iter__", "__getitem__", "__call__"}
# Parameters the adapter names differently from xlwings: fine only while the add-in passes them by position
# (checked below against the add-in's source).
RENAMED = {("Sheet", "range"): {"first": "cell1", "last": "cell2"}, ("Sheets", "__call__"): {"key": "name_or_index"},
           ("Sheet", "__getitem__"): {"address": "item"}}


def members(adapter: type) -> list[str]:
    return sorted(name for name in vars(adapter) if not name.startswith("_") or name in DUNDERS)


@pytest.mark.parametrize(("adapter", "real"), PAIRS, ids=[real.__name__ for _, real in PAIRS])
def test_every_adapter_member_exists_on_xlwings_with_the_same_kind_and_signature(adapter: type, real: type) -> None:
    for name in members(adapter):
        ours, theirs = vars(adapter)[name], getattr(real, name, None)
        assert theirs is not None, f"xlwings.{real.__name__} has no {name}"
        if isinstance(ours, property):
            assert isinstance(theirs, property), f"xlwings.{real.__name__}.{name} is not a property"
            assert ours.fset is None or theirs.fset is not None, f"xlwings.{real.__name__}.{name} cannot be set"
            continue
        assert callable(theirs) and not isinstance(theirs, property), f"xlwings.{real.__name__}.{name} is not a method"
        renamed = RENAMED.get((real.__name__, name), {})
        their_params = inspect.signature(theirs).parameters
        their_positional = [p for p in their_params.values()
                            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        our_positional = [p for p in inspect.signature(ours).parameters.values()
                          if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        assert len(our_positional) <= len(their_positional), f"{real.__name__}.{name} takes more arguments than xlwings"
        for mine, theirs_param in zip(our_positional, their_positional, strict=False):
            assert renamed.get(mine.name, mine.name) == theirs_param.name, (real.__name__, name, mine.name)
            # An argument the adapter lets the add-in leave out must be optional in xlwings too.
            assert mine.default is inspect.Parameter.empty or theirs_param.default is not inspect.Parameter.empty, \
                (real.__name__, name, mine.name)
        assert [p.name for p in their_positional[len(our_positional):] if p.default is inspect.Parameter.empty] == [], \
            f"xlwings.{real.__name__}.{name} requires arguments the adapter does not take"


def test_the_add_in_passes_renamed_parameters_only_by_position() -> None:
    source = "\n".join(path.read_text(encoding="utf-8") for path in Path(pmo_sheets.addin.__file__).parent.glob("*.py"))
    for renames in RENAMED.values():
        for ours in renames:
            assert not re.search(rf"\.(range|sheets)\([^)]*\b{ours}=", source), ours


def test_the_add_in_calls_only_what_the_adapter_offers() -> None:
    # What the add-in calls on a book, a sheet and the app (read from its source), each offered by the adapter,
    # and so (by the test above) by xlwings.
    source = "\n".join(path.read_text(encoding="utf-8") for path in Path(pmo_sheets.addin.__file__).parent.glob("*.py"))
    for variable, adapter in (("book", AdapterBook), ("sheet", AdapterSheet)):
        used = set(re.findall(rf"\b{variable}\.([a-z_]+)\b", source))
        assert used, variable
        offered = set(members(adapter)) | ({"app"} if adapter is AdapterBook else set())
        assert used <= offered, (variable, used - offered)
    assert set(re.findall(r"\bapp\.([a-z_]+)\(", source)) <= set(members(AdapterApp))
