# -*- test-case-name: tests.unit.persistence.test_check_aof -*-
"""``hush-check-aof [--fix] FILE``: check an append-only file, cut a damaged tail.

The job of Redis 7.0's ``redis-check-aof`` for the files Hush writes (one
file of RESP commands, maybe after an RDB preamble, which is checked by
reading it whole), so that an operator needs no Redis installed: the
same checks (every command well formed, MULTI/EXEC paired), the same report
lines and exit statuses, and with ``--fix`` the same question before the file
is cut back to its last good command. The commands are read by
:func:`hush.persistence.aof.parse`, the reader Hush loads the file with.

Exit status 0: the file is valid, empty, or was fixed; 1: it is not valid
(or the fix was declined), or it cannot be read.
"""

from __future__ import annotations

import io
import os
import sys
from dataclasses import dataclass
from typing import TextIO

from hush.formats.rdb import RdbError
from hush.formats.rdb_file import RdbFileReader
from hush.persistence.aof import BadFormat, Truncated, encode, parse

USAGE = "Usage: hush-check-aof [--fix] <file.aof>"


@dataclass
class Report:
    """What checking a file found.

    @ivar ok_up_to: length of the valid prefix: the file may be cut there.
    @ivar line: redis-check-aof's ``ok_up_to_line``, the line it had reached.
    @ivar error: the ``0x<offset>: <why>`` line, or "" when there is none.
    @ivar format_error: the file has something other than a command (or an
        annotation) where a command starts; redis-check-aof says so in its own line.
    """

    size: int
    ok_up_to: int
    line: int
    error: str = ""
    format_error: bool = False

    @property
    def valid(self) -> bool:
        """True when the whole file is good."""
        return self.ok_up_to == self.size


def _error(offset: int, why: str) -> str:
    # redis-check-aof's layout: the offset in hex, right-aligned in 16 columns.
    return f"0x{offset:16x}: {why}"


def check(data: bytes, name: str, begin: int = 0) -> Report:
    """Check the AOF contents ``data`` from ``begin`` on (after an RDB preamble).

    ``name`` is used in the messages.
    """
    size = len(data)
    ok_up_to = begin  # where the file may be cut: not inside a MULTI
    multi = False
    last_read = begin  # where the last argument read starts (redis-check-aof's epos)
    previous_end = begin
    # redis-check-aof counts the lines of commands, not those of annotations
    # ("#TS:..." lines, which hush.persistence.aof.parse skips).
    annotation_lines = 0

    def line(offset: int) -> int:
        return data.count(b"\n", begin, offset) + 1 - annotation_lines

    def past_annotations(limit: int) -> int:
        # The end of the annotation lines after the last command, up to limit.
        nonlocal annotation_lines
        end = _annotations_end(data, previous_end, limit)
        annotation_lines += data.count(b"\n", previous_end, end)
        return end

    try:
        for argv, end in parse(data, begin):
            start = end - len(encode(argv))
            if not multi:
                ok_up_to = past_annotations(start)
            else:
                past_annotations(start)
            command = argv[0].lower()
            nested = command == b"multi" and multi
            unpaired = command == b"exec" and not multi
            if nested or unpaired:
                # redis-check-aof stops once it has read the name: report its offset.
                name_at = start + len(b"*%d\r\n$%d\r\n" % (len(argv), len(argv[0])))
                why = f"Unexpected {command.decode().upper()} in AOF {name}"
                return Report(size, ok_up_to, line(name_at + len(argv[0]) + 2),
                              _error(name_at, why))
            if command == b"multi":
                multi = True
            elif command == b"exec":
                multi = False
            if not multi:
                ok_up_to = end
            last_read = end - len(argv[-1]) - 2
            previous_end = end
    except Truncated as error:
        cut = past_annotations(error.offset)
        return Report(size, ok_up_to if multi else cut, line(size),
                      _error(error.offset, str(error)))
    except BadFormat as error:
        cut = past_annotations(error.offset)
        if cut == error.offset and data[cut:cut + 1] != b"*":
            # Neither a command nor an annotation where one should start.
            return Report(size, ok_up_to if multi else cut, line(cut), format_error=True)
        return Report(size, ok_up_to if multi else cut, line(error.offset),
                      _error(error.offset, str(error)))
    cut = past_annotations(size)
    if multi:
        return Report(size, ok_up_to, line(size),
                      _error(last_read, "Reached EOF before reading EXEC for MULTI"))
    return Report(size, cut, line(size))


def _annotations_end(data: bytes, offset: int, limit: int) -> int:
    """The end of the whole ``#`` lines that start at ``offset``, before ``limit``."""
    while offset < limit and data[offset:offset + 1] == b"#":
        newline = data.find(b"\n", offset, limit)
        if newline < 0:
            break
        offset = newline + 1
    return offset


def _kind(path: str) -> str:
    """"aof", or what else redis-check-aof would take the file for."""
    with open(path, "rb") as handle:
        head = handle.read(5)
        if head == b"REDIS" and os.fstat(handle.fileno()).st_size >= 8:
            return "rdb"
        handle.seek(0)
        for line in handle:
            if line.startswith(b"file"):
                return "manifest"
            if not line.startswith(b"#"):
                break
    return "aof"


def run(path: str, fix: bool, out: TextIO, answers: TextIO) -> int:
    """Check (and with ``fix``, repair) the file at ``path``; the exit status."""
    try:
        kind = _kind(path)
    except OSError as error:
        print(f"Cannot open file {path}: {os.strerror(error.errno or 0)}", file=out)
        return 1
    if kind == "manifest":
        print(f"{path} is a Multi Part AOF manifest (Redis 7): Hush writes a single "
              "file, and hush-check-aof checks only such files. Use redis-check-aof.", file=out)
        return 1
    print("Start checking Old-Style AOF", file=out)
    with open(path, "rb") as handle:
        data = handle.read()
    if not data:
        print(f"AOF {path} is empty", file=out)
        return 0
    start = 0
    if kind == "rdb":
        reader = RdbFileReader(io.BytesIO(data))
        try:
            for _record in reader:
                pass
        except RdbError as error:
            print(f"--- RDB ERROR DETECTED ---\n{error}", file=out)
            print("RDB preamble of AOF file is not sane, aborting.", file=out)
            return 1
        print("RDB preamble is OK, proceeding with AOF tail...", file=out)
        start = reader.offset
    report = check(data, path, start)
    if report.format_error:
        print(f"AOF {path} format error", file=out)
    if report.error:
        print(report.error, file=out)
    diff = report.size - report.ok_up_to
    print(f"AOF analyzed: filename={path}, size={report.size}, ok_up_to={report.ok_up_to}, "
          f"ok_up_to_line={report.line}, diff={diff}", file=out)
    if report.valid:
        print(f"AOF {path} is valid", file=out)
        return 0
    if not fix:
        print(f"AOF {path} is not valid. Use the --fix option to try fixing it.", file=out)
        return 1
    print(f"This will shrink the AOF {path} from {report.size} bytes, with {diff} bytes, "
          f"to {report.ok_up_to} bytes", file=out)
    print("Continue? [y/N]: ", end="", file=out, flush=True)
    if not answers.readline()[:1].lower() == "y":
        print("Aborting...", file=out)
        return 1
    try:
        with open(path, "r+b") as handle:
            handle.truncate(report.ok_up_to)
            os.fsync(handle.fileno())
    except OSError:
        print(f"Failed to truncate AOF {path}", file=out)
        return 1
    print(f"Successfully truncated AOF {path}", file=out)
    return 0


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``hush-check-aof`` console script."""
    args = sys.argv[1:] if argv is None else argv
    fix = "--fix" in args
    files = [arg for arg in args if arg != "--fix"]
    if len(files) != 1 or len(args) > 2 or files[0].startswith("--"):
        print(USAGE)
        raise SystemExit(1)
    raise SystemExit(run(files[0], fix, sys.stdout, sys.stdin))


if __name__ == "__main__":
    main()
