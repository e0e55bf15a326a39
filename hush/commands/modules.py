# -*- test-case-name: tests.commands.test_modules -*-
"""Commands written in Python: declaring, loading and unloading modules; MODULE.

A module is a Python file or an importable module that holds one
:class:`Module` -- its name, version and the commands it declares with
:meth:`Module.command`, the same metadata as a built-in command's. Loading
it (``loadmodule`` in the config file, ``--loadmodule``, ``MODULE LOAD``)
imports the code, checks that none of its command names is taken, and only
then registers its commands in the command table, where the dispatcher,
COMMAND INFO/DOCS, ACL categories, MULTI, scripts, the AOF and INFO
commandstats find them as they find built-in ones. Unloading removes them.

Module authors import from :mod:`hush.module`, the public face of this.
The command table is the process's, so modules are too: every server of a
process (one, outside tests) sees the same loaded modules.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from twisted.logger import Logger

from hush.commands.dispatch import Session, resolve
from hush.commands.table import COMMANDS, Command, Handler, command, container, help_command
from hush.core.errors import CommandError
from hush.data.blocking import Block
from hush.ops import info
from hush.ops.clientinfo import is_local
from hush.wire.resp import OK

log = Logger()

GROUP = "server"

#: Redis's reply to any failed MODULE LOAD; Hush adds the reason after it.
LOAD_FAILED = "ERR Error loading the extension. Please check the server logs."
NO_SUCH_MODULE = "ERR Error unloading module: no such module with that name"
HAS_BLOCKED = ("ERR Error unloading module: the module has blocked clients. "
               "Please wait them unblocked and try again")
UNLOAD_FAILED = "ERR Error unloading module: operation not possible."
MODULE_REFUSED = (
    "ERR MODULE command not allowed. If the enable-module-command option is set to \"local\", "
    "you can run it from a local connection, otherwise you need to set this option in the "
    "configuration file, and then restart the server."
)
NOT_FROM_MODULE = "ERR This Redis command is not allowed from a module command"


class ModuleError(Exception):
    """A module that cannot be loaded or unloaded; the message says why, plainly."""


@dataclass
class _Declared:
    """One command a module declares, registered while the module is loaded."""

    name: str
    handler: Handler
    options: dict[str, Any]


class Module:
    """A module's name, version and declared commands.

    @ivar name: the name MODULE LIST shows and MODULE UNLOAD takes.
    @ivar version: an integer, as Redis modules have (MODULE LIST's ``ver``).
    """

    def __init__(self, name: str, version: int = 1) -> None:
        if not name or any(c in name for c in " \t\r\n|"):
            raise ValueError(f"bad module name {name!r}")
        self.name = name
        self.version = version
        self.declared: list[_Declared] = []
        self._on_load: Callable[[list[bytes]], None] | None = None
        self._on_unload: Callable[[], None] | None = None

    def command(
        self,
        name: str,
        arity: int,
        flags: Iterable[str] = (),
        keys: tuple[int, int, int] = (0, 0, 0),
        summary: str = "",
        since: str = "",
        acl: Iterable[str] = (),
        tips: Iterable[str] = (),
        key_specs: Iterable[dict[str, Any]] | None = None,
    ) -> Callable[[Handler], Handler]:
        """Declare the decorated function as command ``name`` of this module.

        The arguments are :func:`hush.commands.table.command`'s: ``arity``
        as Redis counts it (negative: at least), ``flags`` (``write``,
        ``readonly``, ``denyoom``, ``fast``, ``blocking``, ``noscript``,
        ``no-multi`` ...), ``keys`` as (first, last, step) or ``key_specs``,
        ``acl`` categories; ``summary`` and ``since`` are what COMMAND DOCS
        shows, as for a Redis module's RedisModule_SetCommandInfo (nothing
        where not given). The handler is called as ``handler(ctx,
        *arguments)`` with the client's session as ``ctx``. Names are
        checked against the table when the module loads.
        """

        def declare(handler: Handler) -> Handler:
            self.declared.append(_Declared(name.lower(), handler, {
                "arity": arity, "flags": tuple(flags), "keys": keys, "summary": summary,
                "since": since, "acl": tuple(acl), "tips": tuple(tips),
                "key_specs": None if key_specs is None else tuple(key_specs),
            }))
            return handler

        return declare

    def on_load(self, function: Callable[[list[bytes]], None]) -> Callable[[list[bytes]], None]:
        """Call ``function(arguments)`` once the commands are registered (``loadmodule
        path arg ...``); an exception it raises fails the load."""
        self._on_load = function
        return function

    def on_unload(self, function: Callable[[], None]) -> Callable[[], None]:
        """Call ``function()`` before the commands go; an exception it raises keeps them."""
        self._on_unload = function
        return function


@dataclass
class Loaded:
    """A loaded module: what MODULE LIST shows, and how to take it back."""

    module: Module
    path: str
    args: list[bytes]
    python_name: str
    commands: list[Command] = field(default_factory=list)


#: Module name -> the loaded module, in load order.
LOADED: dict[str, Loaded] = {}


# -- loading -------------------------------------------------------------------------


def _import(path: str) -> tuple[ModuleType, str]:
    """Run the code at ``path`` (a .py file, or an import path): the module and its sys name."""
    if path.endswith(".py") or os.sep in path:
        if not os.path.isfile(path):
            raise ModuleError(f"{path}: no such file")
        stem = os.path.splitext(os.path.basename(path))[0]
        python_name = f"hush_module_{stem}_{len(sys.modules)}"
        spec = importlib.util.spec_from_file_location(python_name, path)
        if spec is None or spec.loader is None:
            raise ModuleError(f"{path}: not a Python file")
        code = importlib.util.module_from_spec(spec)
        sys.modules[python_name] = code
        try:
            spec.loader.exec_module(code)
        except BaseException:
            sys.modules.pop(python_name, None)
            raise
        return code, python_name
    # A fresh import each load: an unloaded module's code may have changed.
    sys.modules.pop(path, None)
    return importlib.import_module(path), path


def _the_module(code: ModuleType, path: str) -> Module:
    found = [value for value in vars(code).values() if isinstance(value, Module)]
    if len(found) != 1:
        raise ModuleError(f"{path} must define exactly one hush.module.Module "
                          f"(it defines {len(found)})")
    return found[0]


def load(path: str, args: Sequence[bytes] = ()) -> Loaded:
    """Import the module at ``path`` and register its commands; raise :class:`ModuleError`.

    Nothing is registered unless everything can be: the code must import,
    hold one :class:`Module` whose name is not loaded yet, and declare only
    names no command has; then its ``on_load`` runs, and a failure there
    takes the commands back.
    """
    try:
        code, python_name = _import(path)
    except ModuleError:
        raise
    except BaseException as error:  # noqa: BLE001 -- any failure of foreign code
        if isinstance(error, KeyboardInterrupt):
            raise
        raise ModuleError(f"{path} failed to import: {type(error).__name__}: {error}") from None
    try:
        module = _the_module(code, path)
        if module.name in LOADED:
            raise ModuleError(f"a module named '{module.name}' is already loaded")
        names = [declared.name for declared in module.declared]
        for name in names:
            if "|" in name or not name or any(c.isspace() for c in name):
                raise ModuleError(f"'{name}' is not a command name a module can declare")
            if names.count(name) > 1:
                raise ModuleError(f"module '{module.name}' declares '{name}' twice")
            if name.encode() in COMMANDS:
                owner = COMMANDS[name.encode()].module or "Hush"
                raise ModuleError(f"command '{name}' is already defined (by {owner})")
    except ModuleError:
        sys.modules.pop(python_name, None)
        raise
    loaded = Loaded(module, path, list(args), python_name)
    for declared in module.declared:
        options = dict(declared.options)
        options["flags"] = (*options["flags"], "module")
        command(declared.name, group="module", **options)(declared.handler)
        cmd = COMMANDS[declared.name.encode()]
        cmd.module = module.name
        loaded.commands.append(cmd)
    LOADED[module.name] = loaded
    if module._on_load is not None:
        try:
            module._on_load(list(args))
        except Exception as error:
            _unregister(loaded)
            raise ModuleError(f"module '{module.name}' failed in on_load: "
                              f"{type(error).__name__}: {error}") from None
    log.info("Module '{name}' loaded from {path}", name=module.name, path=path)
    return loaded


def _unregister(loaded: Loaded) -> None:
    for cmd in loaded.commands:
        for name in (cmd.name.encode(), cmd.name.upper().encode()):
            if COMMANDS.get(name) is cmd:
                del COMMANDS[name]
    LOADED.pop(loaded.module.name, None)
    sys.modules.pop(loaded.python_name, None)


def unload(name: str, clients: Iterable[Session] = ()) -> None:
    """Take the module ``name`` back; raise :class:`CommandError` with Redis's reasons.

    ``clients`` are the server's sessions: while one is blocked in a command
    of the module, the module stays, as in Redis.
    """
    loaded = LOADED.get(name)
    if loaded is None:
        raise CommandError(NO_SUCH_MODULE)
    ours = {id(cmd) for cmd in loaded.commands}
    for client in clients:
        waiter = client.connection.waiter
        argv = waiter.block.argv if waiter is not None else None
        if argv and id(resolve(argv)) in ours:
            raise CommandError(HAS_BLOCKED)
    module = loaded.module
    if module._on_unload is not None:
        try:
            module._on_unload()
        except Exception:
            log.failure("Module {name} OnUnload failed.  Unload canceled.", name=name)
            raise CommandError(UNLOAD_FAILED) from None
    _unregister(loaded)
    log.info("Module {name} unloaded", name=name)


def load_at_start(specs: Iterable[tuple[str, Sequence[str]]]) -> None:
    """Load the ``loadmodule`` lines and ``--loadmodule`` options; raise :class:`ModuleError`
    with Redis's two log lines for the first that fails (the server does not start)."""
    for path, args in specs:
        try:
            load(path, [arg.encode("utf-8", "surrogateescape") for arg in args])
        except ModuleError as error:
            raise ModuleError(f"Module {path} failed to load: {error}\n"
                              f"Can't load module from {path}: server aborting") from None


def info_lines() -> list[tuple[str, str]]:
    """INFO modules: one ``module:name=...`` line per loaded module, as Redis writes them."""
    return [("module", f"name={name},ver={loaded.module.version},api=1,filters=0,"
                       "usedby=[],using=[],options=[]")
            for name, loaded in LOADED.items()]


info.MODULE_LINES = info_lines


# -- calling commands from a module command --------------------------------------------


class ModuleCallSession(Session):
    """The client a module command's :func:`call` runs commands as (Redis's RM_Call).

    It shares the caller's database, id, name and AOF propagation; like a
    script's, its replies have RESP2's shapes and it behaves as a client in MULTI, so blocking commands answer
    at once as if their timeout had expired.
    """

    __slots__ = ()

    def __init__(self, caller: Session) -> None:
        super().__init__(caller.server)
        self.db = caller.db
        self.client_id = caller.client_id
        self.name = caller.name
        # Replies in RESP2's shapes, whatever the caller speaks, as RM_Call gives them.
        self.propagator = caller.propagator
        self.in_multi = True
        self.exec_running = True

    def update_gate(self) -> None:
        """Every command passes :meth:`_gate`."""
        self._gated = True

    def _gate(self, cmd: Command, argv: list[bytes]) -> Any:
        top = cmd.parent or cmd
        if "noscript" in cmd.flags or "noscript" in top.flags:
            return CommandError(NOT_FROM_MODULE)
        return None

    def _reject(self, error: CommandError, cmd: Command | None = None) -> CommandError:
        return error


def call(ctx: Session, *args: bytes | str | int) -> Any:
    """Run a command for a module command and return its reply (Redis's RM_Call).

    The command goes through the dispatcher -- counted in INFO commandstats,
    seen by MONITOR, its writes propagated to the AOF -- on ``ctx``'s
    database. An error reply is raised as :class:`CommandError`.
    """
    argv = [arg if isinstance(arg, bytes) else str(arg).encode() for arg in args]
    session = ModuleCallSession(ctx)
    reply = session.execute(argv)
    if reply.__class__ is Block:
        reply = reply.timeout_reply
    if isinstance(reply, CommandError):
        raise reply
    return reply


# -- MODULE ------------------------------------------------------------------------------


def _module_allowed(ctx) -> bool:
    setting = ctx.server.settings.enable_module_command
    if setting == "yes":
        return True
    if setting == "local":
        return ctx.transport is None or is_local(ctx.transport.getPeer())
    return False


container("module", group=GROUP, since="4.0.0", summary="A container for module commands")

_PROTECTED = ("admin", "noscript", "no-async-loading", "protected")


@command("module|list", arity=2, flags=("admin", "noscript"), group=GROUP, since="4.0.0",
         summary="List all modules loaded by the server", acl=("admin", "slow", "dangerous"),
         tips=("nondeterministic_output_order",))
def module_list(ctx) -> list[dict[bytes, Any]]:
    """Each loaded module: its name, version, path and load arguments."""
    return [{b"name": name.encode(), b"ver": loaded.module.version,
             b"path": loaded.path.encode(), b"args": list(loaded.args)}
            for name, loaded in LOADED.items()]


@command("module|load", arity=-3, flags=_PROTECTED, group=GROUP, since="4.0.0",
         summary="Load a module", acl=("admin", "slow", "dangerous"))
def module_load(ctx, path: bytes, *args: bytes):
    """Load a Python module (a .py file or an import path), with arguments for its on_load."""
    if not _module_allowed(ctx):
        raise CommandError(MODULE_REFUSED)
    where = path.decode("utf-8", "surrogateescape")
    try:
        load(where, args)
    except ModuleError as error:
        log.warn("Module {path} failed to load: {error}", path=where, error=str(error))
        raise CommandError(f"{LOAD_FAILED} {_one_line(str(error))}") from None
    return OK


@command("module|loadex", arity=-3, flags=_PROTECTED, group=GROUP, since="7.0.0",
         summary="Load a module with extended parameters", acl=("admin", "slow", "dangerous"))
def module_loadex(ctx, path: bytes, *rest: bytes):
    """MODULE LOAD's form with ``CONFIG name value`` pairs (Hush's modules have none) and
    ``ARGS`` for on_load."""
    if not _module_allowed(ctx):
        raise CommandError(MODULE_REFUSED)
    if rest and rest[0].lower() == b"config":
        raise CommandError(f"{LOAD_FAILED} Hush modules take no CONFIG parameters")
    if rest and rest[0].lower() != b"args":
        # Redis's parseLoadexArguments fails on anything else.
        raise CommandError(LOAD_FAILED)
    return module_load(ctx, path, *rest[1:])


@command("module|unload", arity=3, flags=_PROTECTED, group=GROUP, since="4.0.0",
         summary="Unload a module", acl=("admin", "slow", "dangerous"))
def module_unload(ctx, name: bytes):
    """Remove a loaded module's commands (refused while a client is blocked in one)."""
    if not _module_allowed(ctx):
        raise CommandError(MODULE_REFUSED)
    unload(name.decode("utf-8", "surrogateescape"), ctx.server.clients.values())
    return OK


def _one_line(text: str) -> str:
    return " ".join(text.split())


help_command("module", [
    "MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LIST",
    "    Return a list of loaded modules.",
    "LOAD <path> [<arg> ...]",
    "    Load a module library from <path>, passing to it any optional arguments.",
    "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
    "    Load a module library from <path>, while passing it module configurations and optional arguments.",
    "UNLOAD <name>",
    "    Unload a module.",
    "HELP",
    "    Prints this help.",
], group=GROUP, since="5.0.0", acl=("slow",))
