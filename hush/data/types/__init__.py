"""One module per Redis value type: everything Hush knows about it.

Each module declares its type's :class:`~hush.data.types.registry.ValueType`
record (TYPE name, value class, OBJECT ENCODING rule, COPY, memory estimate,
AOF rewrite) and registers it; see :mod:`hush.data.types.registry` for how
consumers ask it and how a field or a type is added. Importing this package
registers every type: a new type's module is named on the line below.
"""

from hush.data.types import bitmap, hash, list, set, stream, string, zset  # noqa: F401
