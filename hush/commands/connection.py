# -*- test-case-name: tests.commands.test_connection -*-
"""Connection commands: PING, ECHO, QUIT, SELECT, AUTH, HELLO, CLIENT."""

from __future__ import annotations

from typing import Any

from hush import REDIS_VERSION
from hush.commands.acl_users import DEFAULT_NAME, HELLO_NOAUTH, NO_PASSWORD_CONFIGURED
from hush.commands.args import parse_int
from hush.commands.table import command, container, help_command
from hush.core.errors import DB_INDEX_OUT_OF_RANGE, SYNTAX, CommandError, SubcommandSyntax, c_text
from hush.data.tracking import ClientTracking
from hush.ops.clientinfo import address, client_line, client_type, is_type, subscriptions
from hush.wire.resp import NO_REPLY, OK, PONG, Replies, RespSet, Verbatim

GROUP = "connection"
_ACL = ("fast", "connection")
_CLIENT_FLAGS = ("noscript", "loading", "stale")
_CLIENT_ACL = ("slow", "connection")
_CLIENT_ADMIN_FLAGS = ("admin", "noscript", "loading", "stale")
_CLIENT_ADMIN_ACL = ("admin", "slow", "dangerous", "connection")


@command("ping", arity=-1, flags=("fast", "sentinel"), group=GROUP, acl=_ACL,
         summary="Ping the server",
         tips=("request_policy:all_shards", "response_policy:all_succeeded"))
def ping(ctx, *args: bytes):
    """PONG, or the argument; a two-element array in RESP2 subscribed mode."""
    if len(args) > 1:
        raise CommandError("ERR wrong number of arguments for 'ping' command")
    if not ctx.resp3 and subscriptions(ctx):
        return [b"pong", args[0] if args else b""]
    return args[0] if args else PONG


@command("echo", arity=2, flags=("loading", "stale", "fast"), group=GROUP, acl=_ACL,
         summary="Echo the given string")
def echo(ctx, message: bytes):
    """The message itself."""
    return message


@command("quit", arity=-1, flags=("noscript", "loading", "stale", "fast", "no-auth", "allow-busy"),
         group=GROUP, acl=_ACL, summary="Close the connection")
def quit_(ctx, *args: bytes):
    """OK, then the connection closes."""
    ctx.close_after_reply()
    return OK


@command("select", arity=2, flags=("loading", "stale", "fast"), group=GROUP, acl=_ACL,
         summary="Change the selected database for the current connection")
def select(ctx, index: bytes):
    """Switch the connection to another database."""
    number = parse_int(index, "ERR value is not an integer or out of range")
    if number != 0 and ctx.server.cluster is not None:
        raise CommandError("ERR SELECT is not allowed in cluster mode")
    if not 0 <= number < len(ctx.store.dbs):
        raise CommandError(DB_INDEX_OUT_OF_RANGE)
    ctx.select(number)
    return OK


@command("auth", arity=-2, flags=("noscript", "loading", "stale", "fast", "no-auth", "allow-busy"),
         group=GROUP, acl=_ACL, summary="Authenticate to the server")
def auth_(ctx, *args: bytes):
    """AUTH password (the default user) or AUTH username password."""
    if len(args) > 2:
        raise CommandError(SYNTAX)
    if len(args) == 1:
        # Redis keeps the old one-argument form's error when there is no
        # password to check.
        if ctx.server.acl.default.nopass:
            raise CommandError(NO_PASSWORD_CONFIGURED)
        user, password = DEFAULT_NAME, args[0]
    else:
        user, password = args
    # ACL LOG names the command of a failure; clients send it in capitals.
    ctx.authenticate(user, password, b"AUTH")
    return OK


@command("hello", arity=-1, flags=("noscript", "loading", "stale", "fast", "no-auth", "sentinel",
                                   "allow-busy"),
         group=GROUP, acl=_ACL, summary="Handshake with Redis", since="6.0.0")
def hello(ctx, *args: bytes):
    """Switch protocol, optionally authenticate and name the connection; describe the server."""
    protover = None
    if args:
        protover = parse_int(args[0], "ERR Protocol version is not an integer or out of range")
        if protover not in (2, 3):
            raise CommandError("NOPROTO unsupported protocol version")
    # Redis 7.0 applies each option as it parses it: a later bad option
    # leaves an earlier SETNAME (or AUTH) in effect.
    rest = list(args[1:])
    while rest:
        raw_option = rest.pop(0)
        option = raw_option.upper()
        if option == b"AUTH" and len(rest) >= 2:
            user, password = rest.pop(0), rest.pop(0)
            ctx.authenticate(user, password, b"HELLO")
        elif option == b"SETNAME" and rest:
            name = rest.pop(0)
            check_client_name(name)
            ctx.name = name
        else:
            raise CommandError(
                f"ERR Syntax error in HELLO option '{c_text(raw_option)}'")
    # Redis asks the connection, not whether a password is needed now.
    if not ctx.authenticated:
        raise CommandError(HELLO_NOAUTH)
    if protover is not None:
        ctx.resp3 = protover == 3
    return {
        b"server": b"redis",
        b"version": REDIS_VERSION.encode(),
        b"proto": 3 if ctx.resp3 else 2,
        b"id": ctx.client_id,
        b"mode": b"standalone",
        b"role": b"replica" if ctx.server.replication.is_replica else b"master",
        b"modules": [],
    }


def check_client_name(name: bytes) -> None:
    """Redis refuses names with spaces, newlines or other non-printable bytes."""
    if not _printable_token(name):
        raise CommandError("ERR Client names cannot contain spaces, newlines or special characters.")


def _printable_token(value: bytes) -> bool:
    return all(33 <= c <= 126 for c in value)


# -- CLIENT ----------------------------------------------------------------

container("client", group=GROUP, since="2.4.0",
          summary="A container for client connection commands")


@command("client|id", arity=2, flags=_CLIENT_FLAGS, group=GROUP, acl=_CLIENT_ACL,
         since="5.0.0", summary="Returns the client ID for the current connection")
def client_id(ctx) -> int:
    """This connection's id."""
    return ctx.client_id


@command("client|setname", arity=3, flags=_CLIENT_FLAGS, group=GROUP, acl=_CLIENT_ACL,
         since="2.6.9", summary="Set the current connection name")
def client_setname(ctx, name: bytes):
    """Name the connection; an empty name removes it."""
    check_client_name(name)
    ctx.name = name
    return OK


@command("client|getname", arity=2, flags=_CLIENT_FLAGS, group=GROUP, acl=_CLIENT_ACL,
         since="2.6.9", summary="Get the current connection name")
def client_getname(ctx) -> bytes | None:
    """The connection's name, null when it has none."""
    return ctx.name or None


@command("client|setinfo", arity=4, flags=_CLIENT_FLAGS, group=GROUP, acl=_CLIENT_ACL,
         since="7.2.0", summary="Set client or connection specific info")
def client_setinfo(ctx, attribute: bytes, value: bytes):
    """Record the client library's name or version (shown by CLIENT LIST/INFO)."""
    which = attribute.lower()
    if which not in (b"lib-name", b"lib-ver"):
        raise CommandError(f"ERR Unrecognized option '{c_text(attribute)}'")
    if not _printable_token(value):
        raise CommandError(
            f"ERR {c_text(attribute)} cannot contain spaces, newlines "
            "or special characters.")
    if which == b"lib-name":
        ctx.lib_name = value
    else:
        ctx.lib_ver = value
    return OK


@command("client|info", arity=2, flags=_CLIENT_FLAGS, group=GROUP, acl=_CLIENT_ACL,
         since="6.2.0", summary="Returns information about the current client connection.",
         tips=("nondeterministic_output",))
def client_info(ctx) -> Verbatim:
    """This connection's CLIENT LIST line."""
    return Verbatim(client_line(ctx, ctx.server.clock.seconds()))


@command("client|list", arity=-2, flags=_CLIENT_ADMIN_FLAGS, group=GROUP, acl=_CLIENT_ADMIN_ACL,
         since="2.4.0", summary="Get the list of client connections",
         tips=("nondeterministic_output",))
def client_list(ctx, *args: bytes) -> Verbatim:
    """One line per connection, optionally only of a type or of given ids."""
    clients = ctx.server.clients
    if len(args) == 2 and args[0].lower() == b"type":
        kind = client_type(args[1])
        chosen = [c for c in clients.values() if is_type(c, kind)]
    elif len(args) >= 2 and args[0].lower() == b"id":
        # Any integer is accepted; ids below 1 simply match no client.
        ids = [parse_int(raw, "ERR Invalid client ID") for raw in args[1:]]
        chosen = [clients[i] for i in ids if i in clients]
    elif args:
        raise CommandError(SYNTAX)
    else:
        chosen = list(clients.values())
    now = ctx.server.clock.seconds()
    return Verbatim(b"".join(client_line(c, now) for c in chosen))


@command("client|kill", arity=-3, flags=_CLIENT_ADMIN_FLAGS, group=GROUP, acl=_CLIENT_ADMIN_ACL,
         since="2.4.0", summary="Kill the connection of a client")
def client_kill(ctx, *args: bytes):
    """Close connections by address (old form) or by filters (returns the count)."""
    if len(args) == 1:
        victims = [c for c in ctx.server.clients.values() if address(c, peer=True) == args[0]]
        if not victims:
            raise CommandError("ERR No such client")
        _kill(ctx, victims)
        return OK
    if len(args) % 2:
        raise CommandError(SYNTAX)
    tests = []
    skipme = True
    for raw_option, value in zip(args[::2], args[1::2], strict=True):
        option = raw_option.lower()
        if option == b"id":
            try:
                wanted = parse_int(value)
            except CommandError:
                wanted = 0
            if wanted < 1:
                raise CommandError("ERR client-id should be greater than 0")
            tests.append(lambda c, wanted=wanted: c.client_id == wanted)
        elif option == b"type":
            kind = client_type(value)
            tests.append(lambda c, kind=kind: is_type(c, kind))
        elif option == b"addr":
            tests.append(lambda c, value=value: address(c, peer=True) == value)
        elif option == b"laddr":
            tests.append(lambda c, value=value: address(c, peer=False) == value)
        elif option == b"user":
            user = ctx.server.acl.get(value)
            if user is None:
                raise CommandError(f"ERR No such user '{c_text(value)}'")
            tests.append(lambda c, user=user: c.user is user)
        elif option == b"skipme":
            if value.lower() not in (b"yes", b"no"):
                raise CommandError(SYNTAX)
            skipme = value.lower() == b"yes"
        elif option == b"maxage":
            # Redis 7.4's filter: connections older than this many seconds.
            maxage = parse_int(value, "ERR syntax error")
            now = ctx.server.clock.seconds()
            tests.append(lambda c, maxage=maxage, now=now: now - c.created_at >= maxage)
        else:
            raise CommandError(SYNTAX)
    victims = [
        c for c in ctx.server.clients.values()
        if all(test(c) for test in tests) and not (skipme and c is ctx)
    ]
    _kill(ctx, victims)
    return len(victims)


def _kill(ctx, victims: list[Any]) -> None:
    for victim in victims:
        if victim is ctx:
            # Like Redis, the killer still gets its reply before closing.
            ctx.close_after_reply()
        else:
            # Gone at once, as in Redis: it reads nothing more and leaves the
            # registry now rather than when the reactor reports the close.
            victim.connection.disconnect()
            ctx.server.unregister_client(victim)


@command("client|pause", arity=-3, flags=_CLIENT_ADMIN_FLAGS, group=GROUP, acl=_CLIENT_ADMIN_ACL,
         since="2.9.50", summary="Stop processing commands from clients for some time")
def client_pause(ctx, timeout: bytes, *mode: bytes):
    """Hold all commands (ALL, the default) or only writes (WRITE) for ``timeout`` ms."""
    try:
        millis = parse_int(timeout)
    except CommandError:
        raise CommandError("ERR timeout is not an integer or out of range") from None
    if millis < 0:
        raise CommandError("ERR timeout is negative")
    if len(mode) > 1:
        raise _client_usage("PAUSE")
    kind = "all"
    if mode:
        if mode[0].lower() not in (b"write", b"all"):
            raise CommandError("ERR CLIENT PAUSE mode must be WRITE or ALL")
        kind = mode[0].lower().decode()
    ctx.server.pause.pause(millis / 1000, kind)
    return OK


def _client_usage(name: str) -> CommandError:
    return SubcommandSyntax("CLIENT", name)


@command("client|unpause", arity=2, flags=_CLIENT_ADMIN_FLAGS, group=GROUP,
         acl=_CLIENT_ADMIN_ACL, since="6.2.0",
         summary="Resume processing of clients that were paused")
def client_unpause(ctx):
    """End a pause now; the held clients run their commands."""
    ctx.server.pause.unpause()
    return OK


@command("client|reply", arity=3, flags=_CLIENT_FLAGS, group=GROUP, acl=_CLIENT_ACL,
         since="3.2.0", summary="Instruct the server whether to reply to commands")
def client_reply(ctx, mode: bytes):
    """ON sends replies (and says OK); OFF stops them; SKIP drops the next one."""
    which = mode.lower()
    if which == b"on":
        ctx.reply_mode = None
        ctx.update_gate()
        return OK
    if which == b"off":
        ctx.reply_mode = "off"
    elif which == b"skip":
        if ctx.reply_mode != "off":
            ctx.reply_mode = "skip_next"
    else:
        raise CommandError(SYNTAX)
    ctx.update_gate()
    return NO_REPLY


@command("client|unblock", arity=-3, flags=_CLIENT_ADMIN_FLAGS, group=GROUP,
         acl=_CLIENT_ADMIN_ACL, since="5.0.0",
         summary="Unblock a client blocked in a blocking command from a different connection")
def client_unblock(ctx, raw_id: bytes, *reason: bytes) -> int:
    """Wake a client blocked in BLPOP and friends: as a timeout, or with an error (1 or 0)."""
    target_id = parse_int(raw_id)
    unblock_error = False
    if reason:
        which = reason[0].lower()
        if len(reason) > 1:
            raise _client_usage("UNBLOCK")
        if which not in (b"timeout", b"error"):
            raise CommandError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
        unblock_error = which == b"error"
    target = ctx.server.clients.get(target_id)
    waiter = target.connection.waiter if target is not None else None
    # Clients held by CLIENT PAUSE are not blocked on keys: they are left alone.
    if waiter is None or not waiter.block.keys:
        return 0
    if unblock_error:
        reply = CommandError("UNBLOCKED client unblocked via CLIENT UNBLOCK")
        ctx.server.commandstats.count_error(reply)
    else:
        reply = waiter.block.timeout_reply
    ctx.server.blocking.unblock(waiter, reply)
    return 1


@command("client|no-evict", arity=3, flags=_CLIENT_ADMIN_FLAGS, group=GROUP,
         acl=_CLIENT_ADMIN_ACL, since="7.0.0",
         summary="Set client eviction mode for the current connection")
def client_no_evict(ctx, mode: bytes):
    """Mark the connection as exempt from client eviction (flag ``e``)."""
    mode = mode.lower()
    if mode not in (b"on", b"off"):
        raise CommandError(SYNTAX)
    # Hush never evicts clients; the flag is kept so CLIENT LIST shows it.
    ctx.no_evict = mode == b"on"
    return OK


# -- client-side caching (hush.data.tracking) --------------------------------------


@command("client|tracking", arity=-3, flags=_CLIENT_FLAGS, group=GROUP, acl=_CLIENT_ACL,
         since="6.0.0", summary="Enable or disable server assisted client side caching support")
def client_tracking(ctx, mode: bytes, *options: bytes):
    """CLIENT TRACKING ON|OFF [REDIRECT id] [BCAST] [PREFIX p ...] [OPTIN] [OPTOUT] [NOLOOP]."""
    redirect = 0
    bcast = optin = optout = noloop = False
    prefixes: list[bytes] = []
    index = 0
    while index < len(options):
        option = options[index].lower()
        more = index + 1 < len(options)
        if option == b"redirect" and more:
            index += 1
            if redirect:
                raise CommandError("ERR A client can only redirect to a single other client")
            redirect = parse_int(options[index])
            # The client must exist now, though it may go away later.
            if redirect not in ctx.server.clients:
                raise CommandError("ERR The client ID you want redirect to does not exist")
        elif option == b"bcast":
            bcast = True
        elif option == b"optin":
            optin = True
        elif option == b"optout":
            optout = True
        elif option == b"noloop":
            noloop = True
        elif option == b"prefix" and more:
            index += 1
            prefixes.append(options[index])
        else:
            raise CommandError(SYNTAX)
        index += 1
    registry = ctx.store.tracking
    which = mode.lower()
    if which == b"off":
        registry.disable(ctx)
        return OK
    if which != b"on":
        raise CommandError(SYNTAX)
    state = ctx.tracking
    if prefixes and not bcast:
        raise CommandError("ERR PREFIX option requires BCAST mode to be enabled")
    if state is not None and state.bcast != bcast:
        raise CommandError(
            "ERR You can't switch BCAST mode on/off before disabling tracking for this client, "
            "and then re-enabling it with a different mode.")
    if bcast and (optin or optout):
        raise CommandError("ERR OPTIN and OPTOUT are not compatible with BCAST")
    if optin and optout:
        raise CommandError("ERR You can't specify both OPTIN mode and OPTOUT mode")
    if state is not None and ((optin and state.optout) or (optout and state.optin)):
        raise CommandError(
            "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, "
            "and then re-enabling it with a different mode.")
    replies = Replies()
    if bcast:
        overlap = registry.overlapping(state, prefixes)
        if overlap is not None:
            message, goes_on = overlap
            if not goes_on:
                raise CommandError(message)
            # Redis's overlap check reports some overlaps and succeeds all the same.
            ctx.server.commandstats.count_error(CommandError(message))
            replies.append(CommandError(message))
    registry.enable(ctx, ClientTracking(redirect, bcast, optin, optout, noloop), prefixes)
    if replies:
        replies.append(OK)
        return replies
    return OK


@command("client|caching", arity=3, flags=_CLIENT_FLAGS, group=GROUP, acl=_CLIENT_ACL,
         since="6.0.0",
         summary="Instruct the server about tracking or not keys in the next request")
def client_caching(ctx, mode: bytes):
    """In OPTIN mode YES tracks the next command's keys; in OPTOUT mode NO does not."""
    state = ctx.tracking
    if state is None:
        raise CommandError("ERR CLIENT CACHING can be called only when the client is in "
                           "tracking mode with OPTIN or OPTOUT mode enabled")
    which = mode.lower()
    if which == b"yes":
        if not state.optin:
            raise CommandError(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
    elif which == b"no":
        if not state.optout:
            raise CommandError(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
    else:
        raise CommandError(SYNTAX)
    state.caching = True
    return OK


@command("client|getredir", arity=2, flags=_CLIENT_FLAGS, group=GROUP, acl=_CLIENT_ACL,
         since="6.0.0",
         summary="Get tracking notifications redirection client ID if any")
def client_getredir(ctx) -> int:
    """The client id invalidations go to: 0 for this client itself, -1 when not tracking."""
    return -1 if ctx.tracking is None else ctx.tracking.redirect


@command("client|trackinginfo", arity=2, flags=_CLIENT_FLAGS, group=GROUP, acl=_CLIENT_ACL,
         since="6.2.0",
         summary="Return information about server assisted client side caching for the "
                 "current connection")
def client_trackinginfo(ctx) -> dict:
    """The tracking flags, the redirect id and the BCAST prefixes of this connection."""
    state = ctx.tracking
    if state is None:
        return {b"flags": RespSet([b"off"]), b"redirect": -1, b"prefixes": []}
    flags = [b"on"]
    if state.bcast:
        flags.append(b"bcast")
    if state.optin:
        flags.append(b"optin")
        if state.caching:
            flags.append(b"caching-yes")
    if state.optout:
        flags.append(b"optout")
        if state.caching:
            flags.append(b"caching-no")
    if state.noloop:
        flags.append(b"noloop")
    if state.broken_redirect:
        flags.append(b"broken_redirect")
    return {b"flags": RespSet(flags), b"redirect": state.redirect,
            b"prefixes": list(state.prefixes)}


_CLIENT_HELP = [
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "SETINFO <option> <value>",
    "    Set client meta attr. Options are:",
    "    * LIB-NAME: the client lib name.",
    "    * LIB-VER: the client lib version.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "HELP",
    "    Prints this help.",
]


help_command("client", _CLIENT_HELP, group=GROUP, since="5.0.0", acl=_CLIENT_ACL)
