"""The database's own files, read as an attacker with a copy of them would: SQLite's main file and
write-ahead log page by page, PostgreSQL's heap files and its write-ahead log record by record.

Used by tests/test_draft_privacy.py to prove that a submitted draft leaves no answer beside
anything derived from a code. Formats: https://www.sqlite.org/fileformat2.html (database
header, b-tree pages, WAL frames); PostgreSQL 15's src/include/access/xlog_internal.h,
xlogrecord.h (page headers, XLogRecord, block headers).
"""
from __future__ import annotations

import os
import sqlite3
import struct
from dataclasses import dataclass

from sqlalchemy import text

# --- SQLite ------------------------------------------------------------------------------------


@dataclass
class SqlitePage:
    where: str        # "main page 7" or "wal frame 12 (page 7)"
    number: int       # the page number in the database
    data: bytes

    @property
    def kind(self) -> int:
        """The b-tree page type byte (page 1 has the 100-byte file header first)."""
        return self.data[100 if self.number == 1 else 0]


def sqlite_pages(path: str) -> list[SqlitePage]:
    """Every page of the main file, then every frame of the WAL (old page versions included)."""
    pages = []
    with open(path, "rb") as handle:
        main = handle.read()
    size = struct.unpack(">H", main[16:18])[0]
    size = 65536 if size == 1 else size
    for index in range(len(main) // size):
        pages.append(SqlitePage(f"main page {index + 1}", index + 1, main[index * size:(index + 1) * size]))
    if os.path.exists(path + "-wal"):
        with open(path + "-wal", "rb") as handle:
            wal = handle.read()
        if len(wal) >= 32:
            wal_size = struct.unpack(">I", wal[8:12])[0]
            offset, frame = 32, 0
            while offset + 24 + wal_size <= len(wal):
                number = struct.unpack(">I", wal[offset:offset + 4])[0]
                frame += 1
                pages.append(SqlitePage(f"wal frame {frame} (page {number})", number,
                                        wal[offset + 24:offset + 24 + wal_size]))
                offset += 24 + wal_size
    return pages


def sqlite_table_pages(path: str) -> dict[int, str]:
    """Page number -> table or index name, for the main file as it is now (SQLite's dbstat)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return dict((page, name) for name, page in connection.execute("SELECT name, pageno FROM dbstat"))
    finally:
        connection.close()


# --- PostgreSQL --------------------------------------------------------------------------------

XLOG_BLCKSZ = 8192
SHORT_PAGE_HEADER = 24   # XLogPageHeaderData, MAXALIGNed
LONG_PAGE_HEADER = 40    # XLogLongPageHeaderData (first page of a segment), MAXALIGNed
RECORD_HEADER = 24       # XLogRecord
XLP_FIRST_IS_CONTRECORD = 0x0001
BKPBLOCK_HAS_IMAGE, BKPBLOCK_SAME_REL = 0x10, 0x80
BKPIMAGE_HAS_HOLE, BKPIMAGE_COMPRESSED = 0x01, 0x04 | 0x08 | 0x10  # PG 15: pglz, lz4, zstd
XLR_BLOCK_ID_DATA_SHORT, XLR_BLOCK_ID_DATA_LONG = 255, 254
XLR_BLOCK_ID_ORIGIN, XLR_BLOCK_ID_TOPLEVEL_XID = 253, 252


@dataclass
class WalRecord:
    lsn: int
    rmid: int
    data: bytes                          # the whole record, headers, block images and data
    relations: set[tuple[int, int]]      # (database oid, relfilenode) of each block it touches


def postgres_file(connection, relation: str) -> bytes:
    """The current heap (or index) file of a relation, read by the server (superuser)."""
    return connection.execute(text(
        "SELECT pg_read_binary_file(current_setting('data_directory') || '/' || pg_relation_filepath(CAST(:r AS regclass)))"),
        {"r": relation}).scalar_one()


def postgres_wal_records(connection, start_lsn: str, end_lsn: str) -> list[WalRecord]:
    """Every WAL record from ``start_lsn`` (a record's start, e.g. a checkpoint's) up to ``end_lsn``,
    read from the segment files in pg_wal (pg_ls_waldir), each record's xl_prev checked against
    the record before it, so that a parsing slip fails loudly instead of scanning garbage."""
    segment_size = int(connection.execute(text(
        "SELECT setting::bigint * CASE unit WHEN '8kB' THEN 8192 WHEN 'MB' THEN 1048576 ELSE 1 END "
        "FROM pg_settings WHERE name = 'wal_segment_size'")).scalar_one())
    start, end = _lsn(start_lsn), _lsn(end_lsn)
    first_segment = start - start % segment_size
    names = []
    for base in range(first_segment, end + 1, segment_size):
        names.append(connection.execute(text("SELECT pg_walfile_name(CAST(:l AS pg_lsn))"),
                                        {"l": _lsn_text(base if base > start else start)}).scalar_one())
    present = set(connection.execute(text("SELECT name FROM pg_ls_waldir()")).scalars())
    assert set(names) <= present, f"WAL segments recycled before they were read: {set(names) - present}"
    wal = b"".join(connection.execute(text("SELECT pg_read_binary_file('pg_wal/' || :n)"), {"n": n}).scalar_one()
                   for n in names)

    def header_length(lsn: int) -> int:
        return LONG_PAGE_HEADER if lsn % segment_size < XLOG_BLCKSZ else SHORT_PAGE_HEADER

    def read(lsn: int, length: int) -> tuple[bytes, int]:
        """``length`` record bytes from ``lsn`` on, skipping page headers; and the LSN after them."""
        out = bytearray()
        while length:
            in_page = lsn % XLOG_BLCKSZ
            if in_page == 0:
                lsn += header_length(lsn)
                continue
            take = min(length, XLOG_BLCKSZ - in_page)
            offset = lsn - first_segment
            out += wal[offset:offset + take]
            lsn += take
            length -= take
        return bytes(out), lsn

    records, lsn, previous = [], start, None
    while lsn < end:
        if lsn % XLOG_BLCKSZ == 0:
            lsn += header_length(lsn)
        head, _ = read(lsn, RECORD_HEADER)
        total, _xid, prev, _info, rmid = struct.unpack("<IIQBB", head[:18])
        if total == 0:
            break
        if previous is not None:
            assert prev == previous, f"WAL parse lost its way at {_lsn_text(lsn)}"
        data, after = read(lsn, total)
        records.append(WalRecord(lsn, rmid, data, _relations(data)))
        previous, lsn = lsn, after + (-after % 8)
    return records


def _relations(record: bytes) -> set[tuple[int, int]]:
    relations, position, relation = set(), RECORD_HEADER, None
    while position < len(record):
        block_id = record[position]
        if block_id == XLR_BLOCK_ID_DATA_SHORT or block_id == XLR_BLOCK_ID_DATA_LONG:
            break  # the main data's header is the last header
        if block_id == XLR_BLOCK_ID_ORIGIN:
            position += 3
            continue
        if block_id == XLR_BLOCK_ID_TOPLEVEL_XID:
            position += 5
            continue
        fork_flags = record[position + 1]
        position += 4
        if fork_flags & BKPBLOCK_HAS_IMAGE:
            bimg_info = record[position + 4]
            position += 5
            if bimg_info & BKPIMAGE_HAS_HOLE and bimg_info & BKPIMAGE_COMPRESSED:
                position += 2
        if not fork_flags & BKPBLOCK_SAME_REL:
            _space, database, node = struct.unpack("<III", record[position:position + 12])
            relation = (database, node)
            position += 12
        relations.add(relation)
        position += 4  # block number
    return relations


def _lsn(value: str) -> int:
    high, low = value.split("/")
    return (int(high, 16) << 32) | int(low, 16)


def _lsn_text(value: int) -> str:
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"
