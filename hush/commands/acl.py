# -*- test-case-name: tests.unit.server.test_auth -*-
"""ACL: what Hush can say truthfully about its one user, ``default``.

Hush has no ACL rules: the default user may run every command on every key and
channel, with the ``requirepass`` password or none. WHOAMI, USERS, LIST and CAT
describe exactly that; the commands that would create users or rules are not
offered rather than answered with a pretence.

Without ``requirepass`` the default user needs no password (Redis's
``nopass``) and every connection starts authenticated; with one, AUTH and
HELLO ... AUTH check it here (:func:`check_credentials`), in constant time,
never logging it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any

from hush.commands import introspect
from hush.commands.table import all_commands, command, container, help_command
from hush.core.errors import CommandError, SubcommandSyntax, c_text

DEFAULT_USER = b"default"

NOAUTH = "NOAUTH Authentication required."
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
NO_PASSWORD_CONFIGURED = (
    "ERR AUTH <password> called without any password configured for the default user. "
    "Are you sure your configuration is correct?"
)
HELLO_NOAUTH = (
    "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
    "HELLO AUTH <user> <pass> option can be used to authenticate the client and select "
    "the RESP protocol version at the same time"
)


def password_required(settings: Any) -> bool:
    """True when the default user has a password (connections start unauthenticated)."""
    return bool(settings.requirepass)


def check_credentials(settings: Any, user: bytes, password: bytes) -> bool:
    """Whether ``user``/``password`` authenticate, as Redis's ACLCheckUserCredentials.

    A default user without a password accepts any password. The comparison
    takes the same time wherever the first wrong byte is.
    """
    required = settings.requirepass
    if not required:
        # Still compare, so that the unknown-user path costs what the other does.
        return hmac.compare_digest(user, DEFAULT_USER)
    # fsencode undoes the surrogateescape decoding of command-line arguments,
    # so a non-UTF-8 password given to --requirepass means the same bytes.
    expected = os.fsencode(required)
    good_user = hmac.compare_digest(user, DEFAULT_USER)
    good_password = hmac.compare_digest(password, expected)
    return good_user and good_password


GROUP = "server"
_FLAGS = ("noscript", "loading", "stale")
_ADMIN_FLAGS = ("admin", "noscript", "loading", "stale")

container("acl", group=GROUP, since="6.0.0",
          summary="A container for Access List Control commands ")  # sic: Redis has the space


@command("acl|whoami", arity=2, flags=_FLAGS, group=GROUP, acl=("slow",), since="6.0.0",
         summary="Return the name of the user associated to the current connection")
def acl_whoami(ctx) -> bytes:
    """The connection's user: always ``default``."""
    return DEFAULT_USER


@command("acl|users", arity=2, flags=_ADMIN_FLAGS, group=GROUP, since="6.0.0",
         summary="List the username of all the configured ACL rules")
def acl_users(ctx) -> list[bytes]:
    """Every user name: only ``default``."""
    return [DEFAULT_USER]


@command("acl|list", arity=2, flags=_ADMIN_FLAGS, group=GROUP, since="6.0.0",
         summary="List the current ACL rules in ACL config file format")
def acl_list(ctx) -> list[bytes]:
    """The default user's rule, with its password as a SHA-256 digest (as Redis shows it)."""
    password = ctx.server.settings.requirepass
    if password:
        secret = b"#" + hashlib.sha256(os.fsencode(password)).hexdigest().encode()
    else:
        secret = b"nopass"
    return [b"user default on " + secret + b" ~* &* +@all"]


@command("acl|cat", arity=-2, flags=_FLAGS, group=GROUP, acl=("slow",), since="6.0.0",
         summary="List the ACL categories or the commands inside a category")
def acl_cat(ctx, *args: bytes) -> list[bytes]:
    """Every category, or every command (and subcommand) in one."""
    if not args:
        return [name.encode() for name in introspect.ACL_ORDER]
    if len(args) > 1:
        raise SubcommandSyntax("ACL", "CAT")
    category = args[0].decode("utf-8", "replace").lower()
    if category not in introspect.ACL_ORDER:
        raise CommandError(f"ERR Unknown category '{c_text(args[0], 128)}'")
    names = []
    for cmd in all_commands():
        for each in (cmd, *introspect.unique_subcommands(cmd)):
            if each.handler is not None and category in introspect.acl_categories(each):
                names.append(each.full_name.encode())
    return names


_HELP = [
    "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CAT [<category>]",
    "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "LIST",
    "    Show users details in config file format.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
    "HELP",
    "    Prints this help.",
]


help_command("acl", _HELP, group=GROUP, since="6.0.0", acl=("slow",))
