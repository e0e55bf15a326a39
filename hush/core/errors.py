"""Errors a command can raise, with Redis's exact texts.

A handler raises :class:`CommandError` (or a subclass); the dispatcher turns it
into an error reply. The message is the whole reply line without the leading
``-``, so the error code (ERR, WRONGTYPE, ...) is part of it.

Client bytes quoted in a message keep every byte: :func:`text` decodes them
with ``surrogateescape`` and :mod:`hush.wire.resp` encodes messages back the same
way. Most of Redis's messages print client bytes with C's ``%s``, which
stops at the first NUL byte: :func:`c_text` does that.
"""


class CommandError(Exception):
    """A command failed; ``message`` is sent to the client as ``-message``."""

    def __init__(self, message: str = "ERR") -> None:
        super().__init__(message)
        self.message = message

    def __repr__(self) -> str:
        return f"CommandError({self.message!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CommandError) and other.message == self.message

    def __hash__(self) -> int:
        return hash(self.message)


class ProtocolError(Exception):
    """The client sent bytes that are not a valid request; the connection closes."""


WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
SYNTAX = "ERR syntax error"
NOT_INTEGER = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
OVERFLOW = "ERR increment or decrement would overflow"
NO_SUCH_KEY = "ERR no such key"
INDEX_OUT_OF_RANGE = "ERR index out of range"
DB_INDEX_OUT_OF_RANGE = "ERR DB index is out of range"
INVALID_EXPIRE = "ERR invalid expire time in '{}' command"
TIMEOUT_NOT_FLOAT = "ERR timeout is not a float or out of range"
TIMEOUT_NEGATIVE = "ERR timeout is negative"
NOT_POSITIVE = "ERR value is out of range, must be positive"


class WrongType(CommandError):
    """A key holds a value of another type than the command works on."""

    def __init__(self) -> None:
        super().__init__(WRONGTYPE)


class SubcommandSyntax(CommandError):
    """Redis's addReplySubcommandSyntaxError, raised by a subcommand's handler.

    Redis names the subcommand and its container as the client spelled them;
    the dispatcher, which has the request, rewrites the text with
    :func:`subcommand_syntax`. Without a request the given names are used.
    """

    def __init__(self, container: str, subcommand: str) -> None:
        super().__init__(_SUBCOMMAND_SYNTAX % (subcommand, container))


_SUBCOMMAND_SYNTAX = "ERR unknown subcommand or wrong number of arguments for '%s'. Try %s HELP."


class NamesCommand(CommandError):
    """An error whose text names the command as the client spelled it.

    A few of Redis's messages print the request's ``argv[0]`` with ``%s``
    (GEOSEARCH's "exactly one of FROMMEMBER or FROMLONLAT ... for geosearch").
    The handler gives the text with ``%s`` where the name goes and the name
    to use without a request; the dispatcher, which has the request, fills
    it in with :meth:`for_request`.
    """

    def __init__(self, template: str, name: str) -> None:
        super().__init__(template % name)
        self.template = template

    def for_request(self, argv: list[bytes]) -> CommandError:
        """The error with the command's name as ``argv`` spells it (up to a NUL)."""
        return CommandError(self.template % c_text(argv[0]))


def subcommand_syntax(argv: list[bytes]) -> CommandError:
    """The SubcommandSyntax text for a request: ``%.128s`` of its subcommand as
    sent, and its command name in capitals (ASCII only, as C's toupper)."""
    return CommandError(_SUBCOMMAND_SYNTAX % (
        c_text(argv[1], 128), text(c_string(argv[0]).upper())))


def wrong_arity(name: str) -> CommandError:
    """Redis's error for a command called with the wrong number of arguments."""
    return CommandError(f"ERR wrong number of arguments for '{name}' command")


def text(raw: bytes) -> str:
    """Client bytes for an error text, every byte kept (even invalid UTF-8)."""
    return raw.decode("utf-8", "surrogateescape")


def c_string(raw: bytes) -> bytes:
    """``raw`` as C reads it: up to its first NUL byte."""
    end = raw.find(b"\0")
    return raw if end < 0 else raw[:end]


def c_text(raw: bytes, limit: int | None = None) -> str:
    """Client bytes as Redis's ``%s`` (``%.<limit>s``) prints them into an error."""
    raw = c_string(raw)
    return text(raw if limit is None else raw[:limit])


def message_bytes(message: str) -> bytes:
    """The bytes of an error text: client bytes in it come back as they were."""
    try:
        return message.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        # A lone surrogate that no client byte made (none is expected).
        return message.encode("utf-8", "replace")
