"""CLI commands: one module per command (or command group).

Each module defines ``add_parser(subparsers)`` that registers its sub-command(s) and sets
``func`` on the parser to a callable ``run(args) -> int``. ``args.settings`` holds the loaded
:class:`podatelna.config.Settings`. Commands are discovered by :mod:`podatelna.cli`.
"""
