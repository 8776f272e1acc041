"""Refuse hostile files before any parser touches them: special files, zip bombs, archives that lie.

Three steps, each cheap, each before the next can cost anything:

1. :func:`open_regular_file` looks at the path with ``stat`` first: a named pipe, socket or device is
   refused without being opened (opening a FIFO waits for a writer forever), and so is a file larger
   than the limit. The file is then opened non-blocking and checked again on the open descriptor, so
   a FIFO swapped in between cannot hang the reader either.
2. :func:`check_directory` reads only the zip's end record and central directory: the number of parts
   (before Python's zipfile builds an object for each), each part's declared unpacked size and
   packing ratio, and the total. A zip bomb is refused here without inflating one byte.
3. :func:`read_part` inflates one part with its own decompressor, never producing more than the part's
   declared size: when a directory lies about sizes (declaring 1 KB for a part that inflates to 1 GB),
   the part is refused as soon as it passes what it declared. Parsers (calamine, openpyxl) only ever
   see the in-memory copy built from these reads, never the file on disk.
"""

from __future__ import annotations

import errno
import os
import stat
import struct
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

from pmo_sheets.grid import SourceError
from pmo_sheets.readers.limits import RATIO_FROM_BYTES, ReadLimits, config_key, megabytes

_END = b"PK\x05\x06"  # end of central directory record, 22 bytes plus a comment of up to 65,535
_END64_LOCATOR = b"PK\x06\x07"  # zip64 end of central directory locator, 20 bytes before the end record
_END64 = b"PK\x06\x06"
_LOCAL = b"PK\x03\x04"
# A central directory entry is 46 bytes plus its name and extra field; workbook parts average about
# 100. Allowing 256 a part means a directory that could hold far more parts than allowed is refused
# before Python's zipfile turns every entry into an object.
_DIRECTORY_BYTES_PER_PART = 256
_CHUNK = 64 * 1024
_NONBLOCKING = getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def special_kind(mode: int) -> str | None:
    """What a file that is not a regular file or a folder is (``a named pipe (FIFO)``), or None."""
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "not a regular file"


def open_regular_file(path: Path, *, limits: ReadLimits) -> BinaryIO:
    """``path`` opened for reading, once it is known to be a regular file within the size limit.

    Raises :class:`SourceError`: ``file-missing`` (not there, a link loop, no permission),
    ``file-not-workbook`` (a folder), ``file-special`` (FIFO, socket, device: never opened),
    ``file-empty`` and ``file-too-large``.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise SourceError("file-missing", f"{path}: file not found") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SourceError("file-missing", f"{path}: a symbolic link that loops back on itself; "
                                              "point it at a workbook") from None
        raise SourceError("file-missing", f"{path}: cannot be opened ({exc.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise SourceError("file-not-workbook", f"{path}: is a folder, not a workbook")
    _refuse_special(path, info.st_mode)
    try:
        descriptor = os.open(path, os.O_RDONLY | _NONBLOCKING)
    except OSError as exc:
        raise SourceError("file-missing", f"{path}: cannot be opened ({exc.strerror})") from None
    handle = os.fdopen(descriptor, "rb")
    try:
        info = os.fstat(descriptor)  # what was opened, which may not be what stat saw a moment ago
        if stat.S_ISDIR(info.st_mode):
            raise SourceError("file-not-workbook", f"{path}: is a folder, not a workbook")
        _refuse_special(path, info.st_mode)
        if info.st_size == 0:
            raise SourceError("file-empty", f"{path}: the file is empty (0 bytes)")
        if info.st_size > limits.max_file_bytes:
            raise SourceError("file-too-large", f"{path}: the file is {megabytes(info.st_size)}, more than the "
                                                f"{megabytes(limits.max_file_bytes)} a workbook may be "
                                                f"([limits] {config_key('max_file_bytes')})")
    except BaseException:
        handle.close()
        raise
    return handle


def _refuse_special(path: Path, mode: int) -> None:
    kind = special_kind(mode)
    if kind is not None:
        raise SourceError("file-special", f"{path}: is {kind}, not a workbook file; it was not opened")


def file_size(handle: BinaryIO) -> int:
    """The size of an open file."""
    return os.fstat(handle.fileno()).st_size


def declared_parts(handle: BinaryIO, size: int) -> tuple[int, int] | None:
    """(parts, directory bytes) that the zip's end record declares; None when it has no end record."""
    tail_length = min(size, 22 + 65_535)
    handle.seek(size - tail_length)
    tail = handle.read(tail_length)
    at = tail.rfind(_END)
    if at < 0 or len(tail) - at < 22:
        return None
    parts, directory_bytes = struct.unpack("<10xHL6x", tail[at:at + 22])
    locator = at - 20
    if (parts == 0xFFFF or directory_bytes == 0xFFFFFFFF) and locator >= 0 and tail[locator:locator + 4] == _END64_LOCATOR:
        (end64_offset,) = struct.unpack("<8xQ4x", tail[locator:locator + 20])
        handle.seek(end64_offset)
        record = handle.read(56)
        if len(record) == 56 and record[:4] == _END64:
            parts, directory_bytes = struct.unpack("<32xQQ8x", record)
    return parts, directory_bytes


def check_directory(handle: BinaryIO, path: Path, *, limits: ReadLimits) -> zipfile.ZipFile:
    """The archive of an open .xlsx, once its directory shows it within every limit.

    Raises :class:`SourceError`: ``file-corrupt`` (not a zip archive), ``file-too-large`` (too many
    parts, a part or all of them too big unpacked) or ``file-suspicious`` (a part packed far tighter
    than any spreadsheet: a zip bomb). Nothing is inflated.
    """
    size = file_size(handle)
    declared = declared_parts(handle, size)
    if declared is None:
        raise SourceError("file-corrupt", f"{path}: the workbook is damaged (not a valid .xlsx archive)")
    parts, directory_bytes = declared
    if parts > limits.max_parts or directory_bytes > limits.max_parts * _DIRECTORY_BYTES_PER_PART:
        shown = f"{parts:,} parts" if parts > limits.max_parts else f"a {megabytes(directory_bytes)} list of parts"
        raise SourceError("file-too-large", f"{path}: the archive has {shown}; a workbook may have at most "
                                            f"{limits.max_parts:,} ([limits] {config_key('max_parts')})")
    try:
        archive = zipfile.ZipFile(handle)
    except Exception:  # BadZipFile, and struct or value errors of a mangled directory
        raise SourceError("file-corrupt", f"{path}: the workbook is damaged (not a valid .xlsx archive)") from None
    try:
        check_parts(archive.infolist(), path, limits=limits)
    except BaseException:
        archive.close()
        raise
    return archive


def check_parts(infos: list[zipfile.ZipInfo], path: Path, *, limits: ReadLimits) -> None:
    """Refuse an archive whose directory declares too many parts, parts too big, or a zip bomb's packing."""
    if len(infos) > limits.max_parts:  # the end record may understate what the directory holds
        raise SourceError("file-too-large", f"{path}: the archive has {len(infos):,} parts; a workbook may have at "
                                            f"most {limits.max_parts:,} ([limits] {config_key('max_parts')})")
    for info in infos:
        if info.file_size > RATIO_FROM_BYTES and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            ratio = info.file_size / max(info.compress_size, 1)
            raise SourceError("file-suspicious", f"{path}: {info.filename} would unpack to {megabytes(info.file_size)} "
                                                 f"from {megabytes(info.compress_size)}, {ratio:,.0f} times its packed "
                                                 f"size (spreadsheets pack at most about 15 times; the limit is "
                                                 f"{limits.max_ratio:,.0f}): refused as a likely zip bomb")
    for info in infos:
        if info.file_size > limits.max_part_bytes:
            raise SourceError("file-too-large", f"{path}: {info.filename} would unpack to {megabytes(info.file_size)}, "
                                                f"more than the {megabytes(limits.max_part_bytes)} one part may hold "
                                                f"([limits] {config_key('max_part_bytes')})")
    total = sum(info.file_size for info in infos)
    if total > limits.max_unpacked_bytes:
        raise SourceError("file-too-large", f"{path}: the workbook would unpack to {megabytes(total)}, more than "
                                            f"{megabytes(limits.max_unpacked_bytes)} "
                                            f"([limits] {config_key('max_unpacked_bytes')})")


def read_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> bytes:
    """The unpacked bytes of one part, never more than its declared size.

    Deflated and stored parts (all that Excel, LibreOffice and Google write) are inflated here from
    the raw bytes, so that a part that produces more than its directory declared is caught the moment
    it does: ``file-suspicious``. Any other method goes through zipfile, which stops at the declared
    size itself. A part that inflates to less, or to bytes with the wrong checksum, is ``file-corrupt``.
    """
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or info.flag_bits & 0x1:
        with archive.open(info) as stream:
            return stream.read(info.file_size + 1)
    handle = archive.fp  # the open file that check_directory gave to zipfile
    if handle is None:
        raise ValueError("the archive is closed")
    handle.seek(info.header_offset)
    header = handle.read(30)
    if len(header) < 30 or header[:4] != _LOCAL:
        raise SourceError("file-corrupt", f"{path}: the workbook is damaged ({info.filename} is not where its "
                                          "directory says)")
    name_length, extra_length = struct.unpack("<26xHH", header)
    handle.seek(info.header_offset + 30 + name_length + extra_length)
    declared = info.file_size
    unpacked = bytearray()
    left = info.compress_size
    inflater = zlib.decompressobj(-zlib.MAX_WBITS) if info.compress_type == zipfile.ZIP_DEFLATED else None
    while left > 0:
        chunk = handle.read(min(_CHUNK, left))
        if not chunk:
            break
        left -= len(chunk)
        while chunk:
            if inflater is None:
                unpacked += chunk[:declared + 1 - len(unpacked)]
                chunk = b""
            else:
                unpacked += inflater.decompress(chunk, declared + 1 - len(unpacked))
                chunk = inflater.unconsumed_tail
            if len(unpacked) > declared:
                raise _lying(path, info)
        if inflater is not None and inflater.eof:
            break
    if inflater is not None:
        unpacked += inflater.flush()  # at most a few bytes: all input went through decompress above
        if len(unpacked) > declared:
            raise _lying(path, info)
        if not inflater.eof:
            raise SourceError("file-corrupt", f"{path}: the workbook is damaged ({info.filename} is cut short)")
    if len(unpacked) != declared or zlib.crc32(unpacked) != info.CRC:
        raise SourceError("file-corrupt", f"{path}: the workbook is damaged ({info.filename} fails its checksum)")
    return bytes(unpacked)


def _lying(path: Path, info: zipfile.ZipInfo) -> SourceError:
    return SourceError("file-suspicious", f"{path}: {info.filename} unpacks to more than the {megabytes(info.file_size)} "
                                          "its archive declares: the archive lies about its sizes, as zip bombs do; "
                                          "refused")
