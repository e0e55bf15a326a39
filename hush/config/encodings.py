# -*- test-case-name: tests.unit.persistence.test_rdb -*-
"""The encoding settings as the binary formats take them.

Which encoding a written value gets (listpack or hashtable, intset, the
size of a list's nodes, LZF compression) follows Redis's settings of the
same names: :func:`rdb_thresholds` reads them from the server's settings for
DUMP, the RDB writer and MIGRATE.
"""

from __future__ import annotations

from typing import Any

from hush.config.table import BY_NAME
from hush.formats.rdb import Thresholds


def _value(settings: Any, name: str) -> Any:
    return settings.value(BY_NAME[name])


def rdb_thresholds(settings: Any) -> Thresholds:
    """The settings that decide a written value's RDB encoding, as they are now."""
    return Thresholds(
        list_max_listpack_size=_value(settings, "list-max-listpack-size"),
        hash_max_listpack_entries=_value(settings, "hash-max-listpack-entries"),
        hash_max_listpack_value=_value(settings, "hash-max-listpack-value"),
        set_max_intset_entries=_value(settings, "set-max-intset-entries"),
        zset_max_listpack_entries=_value(settings, "zset-max-listpack-entries"),
        zset_max_listpack_value=_value(settings, "zset-max-listpack-value"),
        stream_node_max_entries=_value(settings, "stream-node-max-entries"),
        stream_node_max_bytes=_value(settings, "stream-node-max-bytes"),
        rdb_compression=_value(settings, "rdbcompression"),
    )
