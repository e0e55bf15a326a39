"""A module for the tests: a one-slot mailbox whose TAKE blocks like BLPOP."""

from hush.module import NOT_READY, OK, Module, block

module = Module("blockbox", version=3)


@module.command("box.put", arity=3, flags=("write", "denyoom", "fast"), keys=(1, 1, 1),
                summary="Leave a message")
def put(ctx, key, message):
    ctx.db.set(key, message)
    return OK


@module.command("box.take", arity=3, flags=("write", "blocking"), keys=(1, 1, 1),
                summary="Take the message, waiting for one")
def take(ctx, key, timeout):
    db = ctx.db
    found = db.pop_value(key)
    if found is not None:
        return found

    def serve(ready_key):
        value = db.pop_value(ready_key)
        return NOT_READY if value is None else value

    return block(ctx, [key], float(timeout), serve, None)
