# -*- test-case-name: tests.test_connection -*-
"""Connection commands: PING, ECHO, QUIT, SELECT, HELLO, CLIENT."""

from __future__ import annotations

from hush import REDIS_VERSION
from hush.commands.args import parse_int
from hush.commands.table import command
from hush.errors import DB_INDEX_OUT_OF_RANGE, CommandError
from hush.resp import OK, PONG

GROUP = "connection"


@command("ping", arity=-1, flags=("fast", "sentinel"), group=GROUP,
         summary="Returns the server's liveliness response.")
def ping(ctx, *args: bytes):
    if len(args) > 1:
        raise CommandError("ERR wrong number of arguments for 'ping' command")
    return args[0] if args else PONG


@command("echo", arity=2, flags=("fast",), group=GROUP, summary="Returns the given string.")
def echo(ctx, message: bytes):
    return message


@command("quit", arity=-1, flags=("noscript", "loading", "stale", "fast", "no-auth", "allow-busy"),
         group=GROUP, summary="Closes the connection.")
def quit_(ctx, *args: bytes):
    ctx.close_after_reply()
    return OK


@command("select", arity=2, flags=("loading", "stale", "fast"), group=GROUP,
         summary="Changes the selected database.")
def select(ctx, index: bytes):
    number = parse_int(index, "ERR value is not an integer or out of range")
    if not 0 <= number < len(ctx.store.dbs):
        raise CommandError(DB_INDEX_OUT_OF_RANGE)
    ctx.select(number)
    return OK


@command("hello", arity=-1, flags=("noscript", "loading", "stale", "fast", "no-auth", "sentinel",
                                   "allow-busy"),
         group=GROUP, summary="Handshakes with the Redis server.", since="6.0.0")
def hello(ctx, *args: bytes):
    protover = None
    rest = list(args)
    if rest:
        try:
            protover = int(rest.pop(0))
        except ValueError:
            raise CommandError("ERR Protocol version is not an integer or out of range") from None
        if protover not in (2, 3):
            raise CommandError("NOPROTO unsupported protocol version")
    setname = None
    while rest:
        raw_option = rest.pop(0)
        option = raw_option.upper()
        if option == b"AUTH" and len(rest) >= 2:
            user, password = rest.pop(0), rest.pop(0)
            ctx.server.authenticate(ctx, user, password)
        elif option == b"SETNAME" and rest:
            setname = rest.pop(0)
            check_client_name(setname)
        else:
            raise CommandError(f"ERR Syntax error in HELLO option '{raw_option.decode(errors='replace')}'")
    if setname is not None:
        ctx.name = setname
    if protover is not None:
        ctx.resp3 = protover == 3
    return {
        b"server": b"redis",
        b"version": REDIS_VERSION.encode(),
        b"proto": 3 if ctx.resp3 else 2,
        b"id": ctx.client_id,
        b"mode": b"standalone",
        b"role": b"master",
        b"modules": [],
    }


def check_client_name(name: bytes) -> None:
    """Redis refuses names with spaces, newlines or other non-printable bytes."""
    if any(c < 33 or c > 126 for c in name):
        raise CommandError("ERR Client names cannot contain spaces, newlines or special characters.")
