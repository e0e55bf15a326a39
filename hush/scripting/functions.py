# -*- test-case-name: tests.commands.test_functions -*-
"""FUNCTION libraries as Redis 7.0 keeps them: the registry FCALL, FUNCTION and persistence use.

A library is the code FUNCTION LOAD was given -- a ``#!lua name=<library>``
line, then Lua that calls ``redis.register_function`` -- and the functions
that code registered when it ran (in the functions' own Lua state, see
:meth:`hush.scripting.engine.ScriptEngine.load_library`). One
:class:`FunctionLibraries` per server (``StoreService.functions``) holds them
all, with Redis's rules: library names are case-sensitive, function names
are unique across libraries whatever their case, a load that fails leaves
everything as it was.

Persistence sees only the libraries' code: :meth:`FunctionLibraries.dump_sources`
gives it in load order (what an AOF rewrite writes as ``FUNCTION LOAD`` and
an RDB file as FUNCTION2 records) and :meth:`FunctionLibraries.load_sources`
loads it back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from hush.core.errors import CommandError, c_string, c_text, text
from hush.core.glob import compile_glob
from hush.scripting.run import Script
from hush.wire.parser import ProtocolReject, split_inline

#: FUNCTION LOAD's time limit for a library's top-level code, as Redis's LOAD_TIMEOUT_MS.
LOAD_TIMEOUT = 0.5
#: The one engine, by the name FUNCTION LIST shows.
LUA = b"LUA"
#: The flags a function may declare, in the order FUNCTION LIST shows them.
FLAG_ORDER = ("no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys")

BAD_NAME = ("ERR Library names can only contain letters, numbers, or underscores(_) and must "
            "be at least one character long")


@dataclass(eq=False)
class Function:
    """A registered function: its name, its Lua callback, description and flags."""

    name: bytes
    callback: Any
    description: bytes | None
    flags: tuple[str, ...]
    library: Library
    #: What a run needs to know (read-only, allow-oom), as an EVAL script's.
    script: Script = field(init=False)

    def __post_init__(self) -> None:
        self.script = script = Script("", b"", self.callback, True, "no-writes" in self.flags,
                                      "allow-oom" in self.flags)
        # A function's flags come from its registration, not a shebang.
        script.no_cluster = "no-cluster" in self.flags
        script.cross_slot = "allow-cross-slot-keys" in self.flags


@dataclass(eq=False)
class Library:
    """A loaded library: its name, engine, whole code and functions (case-sensitive names)."""

    name: bytes
    code: bytes
    functions: dict[bytes, Function] = field(default_factory=dict)
    engine: bytes = LUA


class _Context:
    """Libraries by name and functions by folded name: the current set, or one being built."""

    def __init__(self) -> None:
        self.libraries: dict[bytes, Library] = {}
        self.functions: dict[bytes, Function] = {}

    def link(self, library: Library) -> None:
        for function in library.functions.values():
            # Redis's dictAdd: of two names differing only in case, the first stays.
            self.functions.setdefault(function.name.lower(), function)
        self.libraries[library.name] = library

    def unlink(self, library: Library) -> None:
        for function in library.functions.values():
            folded = function.name.lower()
            if self.functions.get(folded) is function:
                del self.functions[folded]
        del self.libraries[library.name]

    def collision(self, library: Library) -> Function | None:
        """A function of ``library`` whose name another linked library uses."""
        for function in library.functions.values():
            if function.name.lower() in self.functions:
                return function
        return None


class FunctionLibraries:
    """The libraries of one server, and the commands' operations on them.

    @ivar engine: the :class:`hush.scripting.engine.ScriptEngine` that compiles and runs them.
    """

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self._current = _Context()

    # -- reading ---------------------------------------------------------

    @property
    def libraries(self) -> dict[bytes, Library]:
        """Library name -> library, in load order."""
        return self._current.libraries

    def find(self, name: bytes) -> Function | None:
        """The function FCALL names (any letter case), or None."""
        return self._current.functions.get(name.lower())

    @property
    def function_count(self) -> int:
        """How many functions are registered (INFO's number_of_functions)."""
        return len(self._current.functions)

    def listing(self, pattern: bytes | None, with_code: bool) -> list[dict[bytes, Any]]:
        """FUNCTION LIST's entries, for the libraries whose name matches ``pattern``."""
        # Redis matches library names without regard to case: both sides folded.
        match = compile_glob(pattern.lower()) if pattern is not None else None
        entries = []
        for library in self.libraries.values():
            if match is not None and not match(library.name.lower()):
                continue
            entry: dict[bytes, Any] = {
                b"library_name": library.name,
                b"engine": library.engine,
                b"functions": [_describe(function) for function in library.functions.values()],
            }
            if with_code:
                entry[b"library_code"] = library.code
            entries.append(entry)
        return entries

    def dump_sources(self) -> list[bytes]:
        """Every library's code, in load order: what persistence saves.

        An AOF rewrite writes each as ``FUNCTION LOAD <code>`` (as Redis 7.0's
        does), an RDB file (and FUNCTION DUMP) as a FUNCTION2 record.
        """
        return [library.code for library in self.libraries.values()]

    # -- changing --------------------------------------------------------

    def load(self, code: bytes, replace: bool = False, limited: bool = True) -> bytes:
        """FUNCTION LOAD: add (or with ``replace`` swap in) the library ``code`` defines.

        Returns its name; raises CommandError with Redis's text, leaving every
        library as it was, when the code or a name is wrong. Its top-level
        code may run :data:`LOAD_TIMEOUT` seconds, or as long as it takes
        unless ``limited`` (AOF and RDB loading).
        """
        return _create(self._current, self.engine, code, replace,
                       LOAD_TIMEOUT if limited else 0)

    def load_sources(self, sources: Iterable[bytes]) -> None:
        """Load libraries from saved code (an RDB file's FUNCTION2 records), without time limit.

        Raises CommandError naming what failed; the libraries loaded before
        the failing one stay.
        """
        for code in sources:
            self.load(code, limited=False)

    def delete(self, name: bytes) -> None:
        """FUNCTION DELETE: drop a library and its functions (its name as given, case-sensitive)."""
        library = self.libraries.get(name)
        if library is None:
            raise CommandError("ERR Library not found")
        self._current.unlink(library)

    def flush(self) -> None:
        """FUNCTION FLUSH: drop every library."""
        self._current = _Context()

    def restore(self, sources: Iterable[bytes], policy: str) -> None:
        """FUNCTION RESTORE of the libraries in a payload, by ``policy`` (flush, append, replace).

        The payload's libraries are built apart first (two with one name
        fail); then FLUSH makes them the whole set, APPEND adds them and fails
        on a library name already loaded, REPLACE swaps such libraries. A
        function name another library uses fails APPEND and REPLACE alike.
        Nothing changes when it fails.
        """
        staged = _Context()
        for code in sources:
            _create(staged, self.engine, code, False, 0)
        if policy == "flush":
            self._current = staged
            return
        current = self._current
        replaced: list[Library] = []
        try:
            for library in staged.libraries.values():
                old = current.libraries.get(library.name)
                if old is None:
                    continue
                if policy != "replace":
                    raise CommandError(f"ERR Library {text(library.name)} already exists")
                current.unlink(old)
                replaced.append(old)
            for library in staged.libraries.values():
                clash = current.collision(library)
                if clash is not None:
                    raise CommandError(f"ERR Function {text(clash.name)} already exists")
        except CommandError:
            for old in replaced:
                current.link(old)
            raise
        for library in staged.libraries.values():
            current.link(library)

    def stats(self) -> dict[bytes, Any]:
        """FUNCTION STATS's engines part: per engine, its libraries and functions."""
        return {LUA: {b"libraries_count": len(self.libraries),
                      b"functions_count": sum(len(library.functions)
                                              for library in self.libraries.values())}}


def _describe(function: Function) -> dict[bytes, Any]:
    return {b"name": function.name, b"description": function.description,
            b"flags": function.flags}


def parse_metadata(code: bytes) -> tuple[bytes, bytes, bytes]:
    """(engine, library name, code after the shebang line) of a library, as Redis reads them.

    The first line is ``#!<engine> name=<library>``, split as Redis splits
    arguments; the code returned keeps the line's newline, so line numbers
    in errors count from the shebang.
    """
    if not code.startswith(b"#!"):
        raise CommandError("ERR Missing library metadata")
    end = c_string(code).find(b"\n")
    if end < 0:
        raise CommandError("ERR Invalid library metadata")
    try:
        parts = split_inline(code[:end])
    except ProtocolReject:
        parts = []
    if not parts:
        raise CommandError("ERR Invalid library metadata")
    engine = c_string(parts[0])[2:]
    name = None
    for part in parts[1:]:
        if part[:5].lower() == b"name=":
            if name is not None:
                raise CommandError(
                    "ERR Invalid metadata value, name argument was given multiple times")
            name = part[5:]
            continue
        raise CommandError(f"ERR Invalid metadata value given: {c_text(part)}")
    if name is None:
        raise CommandError("ERR Library name was not given")
    return engine, name, code[end:]


def valid_name(name: bytes) -> bool:
    """Letters, digits and underscores only, at least one: library and function names."""
    return bool(name) and all(
        48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122 or c == 95 for c in name)


def _create(context: _Context, engine: Any, code: bytes, replace: bool, timeout: float) -> bytes:
    """Redis's functionsCreateWithLibraryCtx: build the library and link it into ``context``."""
    engine_name, name, body = parse_metadata(code)
    if not valid_name(name):
        raise CommandError(BAD_NAME)
    if engine_name.upper() != LUA:
        raise CommandError(f"ERR Engine '{text(engine_name)}' not found")
    old = context.libraries.get(name)
    if old is not None and not replace:
        raise CommandError(f"ERR Library '{text(name)}' already exists")
    if old is not None:
        context.unlink(old)
    try:
        library = Library(name, code)
        for function_name, callback, description, flags in engine.load_library(body, timeout):
            library.functions[function_name] = Function(
                function_name, callback, description,
                tuple(flag for flag in FLAG_ORDER if flag.encode() in flags), library)
        if not library.functions:
            raise CommandError("ERR No functions registered")
        clash = context.collision(library)
        if clash is not None:
            raise CommandError(f"ERR Function {text(clash.name)} already exists")
    except CommandError:
        if old is not None:
            context.link(old)
        raise
    context.link(library)
    return name
