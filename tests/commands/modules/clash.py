from hush.module import Module

module = Module("clash")


@module.command("get", arity=2)
def get(ctx, key):
    return b"mine"
