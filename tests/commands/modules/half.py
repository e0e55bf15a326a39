from hush.module import Module

module = Module("half")


@module.command("half.ok", arity=1)
def ok(ctx):
    return 1


@module.command("ping", arity=1)
def ping(ctx):
    return 2
