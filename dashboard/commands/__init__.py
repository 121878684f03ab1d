"""CLI command modules: each module here defines ``register(subparsers, common)``.

:mod:`dashboard.cli` discovers every module of this package, so a feature adds its commands
by adding a module, without editing a shared file. Handlers are thin: parse arguments, call
``core``, print. They receive ``(args, ctx)`` where ``ctx`` is a :class:`dashboard.cli.Context`.
"""
