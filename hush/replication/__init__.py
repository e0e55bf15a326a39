"""Replication with Redis's protocol, both ways: serving replicas, following a master.

``backlog`` holds the replication ids, the offset and the backlog ring;
``stream`` encodes propagated commands into the replication stream and
parses a master's stream; ``master`` serves SYNC/PSYNC to replicas (Redis's
or Hush's) and feeds them; ``replica`` is the link to a master; ``manager``
is what the server wires and the commands reach (typed as
:class:`hush.core.interfaces.Replication`).
"""
