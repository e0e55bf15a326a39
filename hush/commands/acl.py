# -*- test-case-name: tests.commands.test_acl -*-
"""ACL: SETUSER, GETUSER, DELUSER, LIST, USERS, WHOAMI, CAT, LOG, DRYRUN, GENPASS, LOAD, SAVE.

The users, their rules and the checks live in :mod:`hush.commands.acl_users`
(``ctx.server.acl``); these handlers read and change them with Redis 7.0's
replies and texts. AUTH and HELLO (:mod:`hush.commands.connection`)
authenticate against the same users; the dispatcher checks each command of
a restricted user (:meth:`hush.commands.dispatch.Session.update_gate`).
"""

from __future__ import annotations

import os
from typing import Any

from hush.commands import introspect
from hush.commands.acl_users import (
    DENIED_CHANNEL,
    DENIED_CMD,
    DENIED_KEY,
    NO_ACL_FILE,
    catalogue,
    has_spaces,
)
from hush.commands.args import parse_int
from hush.commands.dispatch import WRONG_ARITY, Unresolved, resolve
from hush.commands.table import command, container, help_command
from hush.core.errors import CommandError, SubcommandSyntax, c_text, wrong_arity
from hush.wire.resp import OK, RespSet

GROUP = "server"
_FLAGS = ("noscript", "loading", "stale")
_ADMIN_FLAGS = ("admin", "noscript", "loading", "stale")
_SINCE = "6.0.0"
#: ACL GENPASS's most bits.
GENPASS_MAX_BITS = 4096

container("acl", group=GROUP, since=_SINCE,
          summary="A container for Access List Control commands ")  # sic: Redis has the space


@command("acl|whoami", arity=2, flags=_FLAGS, group=GROUP, acl=("slow",), since=_SINCE,
         summary="Return the name of the user associated to the current connection")
def acl_whoami(ctx) -> bytes:
    """The connection's user."""
    return ctx.user.name


@command("acl|users", arity=2, flags=_ADMIN_FLAGS, group=GROUP, since=_SINCE,
         summary="List the username of all the configured ACL rules")
def acl_users(ctx) -> list[bytes]:
    """Every user name, sorted."""
    return [user.name for user in ctx.server.acl.sorted_users()]


@command("acl|list", arity=2, flags=_ADMIN_FLAGS, group=GROUP, since=_SINCE,
         summary="List the current ACL rules in ACL config file format")
def acl_list(ctx) -> list[bytes]:
    """Every user as an ACL file line (passwords as their SHA-256)."""
    return [b"user " + user.name + b" " + user.describe()
            for user in ctx.server.acl.sorted_users()]


@command("acl|setuser", arity=-3, flags=_ADMIN_FLAGS, group=GROUP, since=_SINCE,
         summary="Modify or create the rules for a specific ACL user")
def acl_setuser(ctx, name: bytes, *rules: bytes) -> Any:
    """Create or change a user: every rule applies, or none."""
    if has_spaces(name):
        raise CommandError("ERR Usernames can't contain spaces or null characters")
    ctx.server.acl.set_user(name, list(rules))
    return OK


@command("acl|getuser", arity=3, flags=_ADMIN_FLAGS, group=GROUP, since=_SINCE,
         summary="Get the rules for a specific ACL user")
def acl_getuser(ctx, name: bytes) -> Any:
    """A user's flags, password hashes, root permissions and selectors; null if unknown."""
    user = ctx.server.acl.get(name)
    if user is None:
        return None
    reply: dict[bytes, Any] = {
        b"flags": RespSet(flag.encode() for flag in user.flags()),
        b"passwords": list(user.passwords),
    }
    reply.update(user.root.reply())
    reply[b"selectors"] = [selector.reply() for selector in user.selectors[1:]]
    return reply


@command("acl|deluser", arity=-3, flags=_ADMIN_FLAGS, group=GROUP, since=_SINCE,
         summary="Remove the specified ACL users and the associated rules")
def acl_deluser(ctx, *names: bytes) -> int:
    """Remove users (their connections close); how many existed."""
    return ctx.server.acl.delete_users(list(names), ctx)


@command("acl|cat", arity=-2, flags=_FLAGS, group=GROUP, acl=("slow",), since=_SINCE,
         summary="List the ACL categories or the commands inside a category")
def acl_cat(ctx, *args: bytes) -> list[bytes]:
    """Every category, or every command (containers and subcommands too) in one."""
    if not args:
        return [name.encode() for name in introspect.ACL_ORDER]
    if len(args) > 1:
        raise SubcommandSyntax("ACL", "CAT")
    category = args[0].decode("utf-8", "replace").lower()
    if category not in introspect.ACL_ORDER:
        raise CommandError(f"ERR Unknown category '{c_text(args[0], 128)}'")
    return [cmd.full_name.encode() for cmd in catalogue().members[category]]


@command("acl|dryrun", arity=-4, flags=_ADMIN_FLAGS, group=GROUP, since="7.0.0",
         summary="Returns whether the user can execute the given command without executing "
                 "the command.")
def acl_dryrun(ctx, name: bytes, *argv: bytes) -> Any:
    """Whether ``name`` may run the command, without running it: OK or why not."""
    user = ctx.server.acl.get(name)
    if user is None:
        raise CommandError(f"ERR User '{c_text(name)}' not found")
    args = list(argv)
    found = resolve(args)
    if found.__class__ is Unresolved:
        if found.cmd is None or found.kind is not WRONG_ARITY:
            raise CommandError(f"ERR Command '{c_text(args[0])}' not found")
        raise wrong_arity(found.cmd.full_name)
    reason, index = user.check(found, args)
    if reason == DENIED_CMD:
        return (f"This user has no permissions to run the '{found.full_name}' "
                "command").encode()
    if reason in (DENIED_KEY, DENIED_CHANNEL):
        what = "key" if reason == DENIED_KEY else "channel"
        return (b"This user has no permissions to access the '" + args[index] + b"' "
                + what.encode())
    return OK


@command("acl|genpass", arity=-2, flags=_FLAGS, group=GROUP, acl=("slow",), since=_SINCE,
         summary="Generate a pseudorandom secure password to use for ACL users")
def acl_genpass(ctx, *args: bytes) -> bytes:
    """A random password in hex: 256 bits, or the bits asked for."""
    if len(args) > 1:
        raise SubcommandSyntax("ACL", "GENPASS")
    bits = parse_int(args[0]) if args else 256
    if bits <= 0 or bits > GENPASS_MAX_BITS:
        raise CommandError(
            "ERR ACL GENPASS argument must be the number of bits for the output password, a "
            f"positive number up to {GENPASS_MAX_BITS}")
    chars = (bits + 3) // 4
    return os.urandom((chars + 1) // 2).hex()[:chars].encode()


@command("acl|log", arity=-2, flags=_ADMIN_FLAGS, group=GROUP, since=_SINCE,
         summary="List latest events denied because of ACLs in place")
def acl_log(ctx, *args: bytes) -> Any:
    """The latest refusals (10, or the count given), or RESET to forget them."""
    if len(args) > 1:
        raise SubcommandSyntax("ACL", "LOG")
    count = 10
    if args:
        if args[0].lower() == b"reset":
            ctx.server.acl.log.clear()
            return OK
        count = parse_int(args[0])
    return ctx.server.acl.log_reply(count)


def _acl_file(ctx) -> str:
    path = ctx.server.settings.aclfile
    if not path:
        raise CommandError(NO_ACL_FILE)
    return path


@command("acl|load", arity=2, flags=_ADMIN_FLAGS, group=GROUP, since=_SINCE,
         summary="Reload the ACLs from the configured ACL file")
def acl_load(ctx) -> Any:
    """Replace every user with those of the ACL file, or keep them all on any error."""
    errors = ctx.server.acl.load_file(_acl_file(ctx), ctx)
    if errors is not None:
        raise CommandError(f"ERR {errors}")
    return OK


@command("acl|save", arity=2, flags=_ADMIN_FLAGS, group=GROUP, since=_SINCE,
         summary="Save the current ACL rules in the configured ACL file")
def acl_save(ctx) -> Any:
    """Write every user to the ACL file."""
    if not ctx.server.acl.save_file(_acl_file(ctx)):
        raise CommandError("ERR There was an error trying to save the ACLs. Please check the "
                           "server logs for more information")
    return OK


_HELP = [
    "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CAT [<category>]",
    "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "DELUSER <username> [<username> ...]",
    "    Delete a list of users.",
    "DRYRUN <username> <command> [<arg> ...]",
    "    Returns whether the user can execute the given command without executing the command.",
    "GETUSER <username>",
    "    Get the user's details.",
    "GENPASS [<bits>]",
    "    Generate a secure 256-bit user password. The optional `bits` argument can",
    "    be used to specify a different size.",
    "LIST",
    "    Show users details in config file format.",
    "LOAD",
    "    Reload users from the ACL file.",
    "LOG [<count> | RESET]",
    "    Show the ACL log entries.",
    "SAVE",
    "    Save the current config to the ACL file.",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create or modify a user with the specified attributes.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
    "HELP",
    "    Prints this help.",
]


help_command("acl", _HELP, group=GROUP, since=_SINCE, acl=("slow",))
