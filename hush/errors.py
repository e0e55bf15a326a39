"""Errors a command can raise, with Redis's exact texts.

A handler raises :class:`CommandError` (or a subclass); the dispatcher turns it
into an error reply. The message is the whole reply line without the leading
``-``, so the error code (ERR, WRONGTYPE, ...) is part of it.
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


def wrong_arity(name: str) -> CommandError:
    """Redis's error for a command called with the wrong number of arguments."""
    return CommandError(f"ERR wrong number of arguments for '{name}' command")
