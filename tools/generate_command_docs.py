#!/usr/bin/env python3
"""Write ``hush/commands/redis_command_docs.json`` from a real redis-server's COMMAND DOCS.

Redis's command documentation (summary, since, group, complexity, history,
arguments with their types, tokens and flags, deprecation) is data: Redis
7.0 builds it into the server from its ``src/commands/*.json`` and answers
it to ``COMMAND DOCS``, which redis-cli 7 turns into its typing hints. Hush
answers the same data: this script asks a redis-server for every command's
documentation and stores it, in the structure of the reply (maps as JSON
objects in Redis's key order, flag and history sets as lists), sorted by
command name. ``hush.commands.docs`` renders it back in RESP2 or RESP3.

Run it with the redis-server Hush is compatible with (7.0.15)::

    python tools/generate_command_docs.py            # starts redis-server on a free port
    python tools/generate_command_docs.py --port N   # asks a running one

Commands Redis 7.0.15 lacks and Hush has get their documentation from
``hush/commands/hush_command_docs.json`` instead, written by hand in the
same structure; this script does not touch that file.

The data is Redis's, under its BSD 3-clause license (see the notice in the
generated file); the script is Hush's.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import hiredis

REPO = Path(__file__).resolve().parent.parent
TARGET = REPO / "hush" / "commands" / "redis_command_docs.json"

NOTICE = (
    "Command documentation of Redis 7.0.15 (its COMMAND DOCS reply, generated from its "
    "src/commands/*.json), by tools/generate_command_docs.py. Copyright (c) 2006-2022, "
    "Salvatore Sanfilippo and Redis contributors. Redistributed under Redis's BSD 3-clause "
    "license: redistribution and use in source and binary forms, with or without "
    "modification, are permitted provided that (1) redistributions of source code retain "
    "this copyright notice, this list of conditions and the following disclaimer; "
    "(2) redistributions in binary form reproduce it in the documentation and/or other "
    "materials provided with the distribution; (3) neither the name of Redis nor the names "
    "of its contributors may be used to endorse or promote products derived from this "
    "software without specific prior written permission. THIS SOFTWARE IS PROVIDED BY THE "
    "COPYRIGHT HOLDERS AND CONTRIBUTORS \"AS IS\" AND ANY EXPRESS OR IMPLIED WARRANTIES "
    "ARE DISCLAIMED."
)


def _command(sock: socket.socket, *args: str) -> Any:
    payload = b"*%d\r\n" % len(args) + b"".join(
        b"$%d\r\n%s\r\n" % (len(arg.encode()), arg.encode()) for arg in args)
    sock.sendall(payload)
    reader = hiredis.Reader()
    while True:
        reply = reader.gets()
        if reply is not False:
            return reply
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("redis-server closed the connection")
        reader.feed(chunk)


def _pairs(flat: list) -> dict[str, Any]:
    return {key.decode(): value for key, value in zip(flat[::2], flat[1::2], strict=True)}


def _doc(flat: list) -> dict[str, Any]:
    """One command's documentation, from its RESP2 reply (a flat map)."""
    doc: dict[str, Any] = {}
    for key, value in _pairs(flat).items():
        if key == "arguments":
            doc[key] = [_argument(arg) for arg in value]
        elif key == "subcommands":
            subs = {name: _doc(sub) for name, sub in _pairs(value).items()}
            doc[key] = dict(sorted(subs.items()))
        elif key == "history":
            doc[key] = [[version.decode(), text.decode()] for version, text in value]
        elif key == "doc_flags":
            doc[key] = [flag.decode() for flag in value]
        else:
            doc[key] = value.decode()
    return doc


def _argument(flat: list) -> dict[str, Any]:
    arg: dict[str, Any] = {}
    for key, value in _pairs(flat).items():
        if key == "arguments":
            arg[key] = [_argument(sub) for sub in value]
        elif key == "flags":
            arg[key] = [flag.decode() for flag in value]
        elif isinstance(value, int):
            arg[key] = value
        else:
            arg[key] = value.decode()
    return arg


def collect(port: int) -> tuple[str, dict[str, Any]]:
    """(redis_version, name -> documentation) from the redis-server on ``port``."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        info = _command(sock, "INFO", "server").decode()
        version = next(line.split(":", 1)[1] for line in info.splitlines()
                       if line.startswith("redis_version:"))
        docs = {name: _doc(doc) for name, doc in _pairs(_command(sock, "COMMAND", "DOCS")).items()}
    return version, dict(sorted(docs.items()))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, help="a running redis-server to ask")
    parser.add_argument("--output", type=Path, default=TARGET)
    options = parser.parse_args(argv)
    process = None
    port = options.port
    if port is None:
        server = shutil.which("redis-server")
        if server is None:
            print("redis-server is not installed", file=sys.stderr)
            return 1
        port = _free_port()
        workdir = tempfile.mkdtemp()
        process = subprocess.Popen(
            [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--dir", workdir], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    process.kill()
                    raise
                time.sleep(0.05)
    try:
        version, docs = collect(port)
    finally:
        if process is not None:
            process.terminate()
            process.wait(10)
    data = {"_about": {"redis_version": version, "notice": NOTICE}, "commands": docs}
    options.output.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    print(f"{options.output}: {len(docs)} commands of Redis {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
