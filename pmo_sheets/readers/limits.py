"""What reading sources may cost at most: the walk that finds workbooks, and each workbook file.

An .xlsx is a zip archive, and a zip archive can be built to unpack to a thousand times its size (a
"zip bomb"): a 4 MB file that becomes 1.2 GB of sheet XML. A folder can hold a named pipe called
``plan.xlsx`` that never answers, or links that loop back on themselves. These limits bound what any
one source can make pmo-sheets do; they are checked before any parser sees the file (see
:mod:`pmo_sheets.readers.zipguard`) and while walking folders (see :mod:`pmo_sheets.discovery`).

The defaults leave wide headroom over real project workbooks, measured on the templates and the
sample workbooks (``docs/trust.md`` has the figures): a 1,000-task plan is 0.4 MB on disk, 27 parts,
3.5 MB unpacked, its largest part 2.5 MB, packed 6 to 11 times. ``portfolio.toml`` can change each
limit in its ``[limits]`` table (sizes there in MB).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

MiB = 1024 * 1024

#: Size on disk. 150 times the 1,000-task plan; what makes real workbooks big is pasted pictures.
MAX_FILE_BYTES = 64 * MiB
#: Parts (zip entries). Workbooks have 17 to 30; even 255 sheets with drawings and comments stay near 1,500.
MAX_PARTS = 10_000
#: One part, unpacked. 25 times the 1,000-task plan's Tasks sheet (2.5 MB): room for about 25,000 tasks.
MAX_PART_BYTES = 64 * MiB
#: All parts together, unpacked. 36 times the 1,000-task plan (3.5 MB). Reading a workbook holds about
#: this much in memory at worst, so it also bounds what an accepted file can cost.
MAX_UNPACKED_BYTES = 128 * MiB
#: Unpacked size over packed size, for parts of more than RATIO_FROM_BYTES. Real sheets pack 6 to 13
#: times (100,000 identical rows: 12.5); deflate cannot pass about 1,030, and zip bombs sit at 300 to
#: 1,030. Apache POI refuses past 100 and is known to refuse some real drawing parts at that level.
MAX_RATIO = 200.0
#: Parts smaller than this may pack any amount: a 1 MB part is harmless whatever its ratio.
RATIO_FROM_BYTES = 1 * MiB
#: Files and folders a glob may look at before discovery stops. A PMO share of 1,000 projects with
#: history folders holds tens of thousands; walking 200,000 entries takes a few seconds on a local disk.
MAX_PATHS_VISITED = 200_000

#: ``[limits]`` keys of portfolio.toml -> (field, multiplier to the field's unit).
CONFIG_KEYS = {
    "max_file_mb": ("max_file_bytes", MiB),
    "max_parts": ("max_parts", 1),
    "max_part_mb": ("max_part_bytes", MiB),
    "max_unpacked_mb": ("max_unpacked_bytes", MiB),
    "max_ratio": ("max_ratio", 1),
    "max_paths_visited": ("max_paths_visited", 1),
}


@dataclass(frozen=True)
class ReadLimits:
    """Upper bounds on what one source may cost; every field defaults to the module constant of its name."""

    max_file_bytes: int = MAX_FILE_BYTES
    max_parts: int = MAX_PARTS
    max_part_bytes: int = MAX_PART_BYTES
    max_unpacked_bytes: int = MAX_UNPACKED_BYTES
    max_ratio: float = MAX_RATIO
    max_paths_visited: int = MAX_PATHS_VISITED

    @classmethod
    def from_config(cls, table: dict[str, Any]) -> ReadLimits:
        """The limits of a ``[limits]`` table (already checked against the config schema); unset keys keep the defaults."""
        values: dict[str, Any] = {}
        for key, value in table.items():
            name, unit = CONFIG_KEYS[key]
            values[name] = value if name == "max_ratio" else int(value * unit)
        return cls(**values)

    def describe(self) -> dict[str, Any]:
        """Field name -> value, for documentation and messages."""
        return {field.name: getattr(self, field.name) for field in fields(self)}


DEFAULT_LIMITS = ReadLimits()

#: Reading finance's comments back from our own master. The master grows with the portfolio (at 1,000
#: projects its Task data sheet unpacks to 165 MB, past what a project workbook may), and only its
#: Portfolio and Comments archive sheets are parsed, so the sizes a source may have do not apply; what
#: marks a zip bomb (the packing ratio, the number of parts) still does.
MASTER_LIMITS = ReadLimits(max_file_bytes=1 << 40, max_part_bytes=1 << 40, max_unpacked_bytes=1 << 40)


def config_key(field_name: str) -> str:
    """The ``[limits]`` key of portfolio.toml that sets ``field_name``."""
    return next(key for key, (name, _) in CONFIG_KEYS.items() if name == field_name)


def megabytes(count: int) -> str:
    """``count`` bytes in words people read: ``1.2 GB``, ``64 MB``, ``830 KB``, ``12 bytes``."""
    if count >= 1000 * MiB:
        return f"{count / (1024 * MiB):.1f} GB"
    if count >= MiB:
        return f"{count / MiB:.0f} MB" if count % MiB == 0 or count >= 100 * MiB else f"{count / MiB:.1f} MB"
    if count >= 1024:
        return f"{count / 1024:.0f} KB"
    return f"{count} bytes"
