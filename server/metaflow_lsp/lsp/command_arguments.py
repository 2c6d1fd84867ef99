"""The arguments of a server command (workspace/executeCommand), as every command of this server reads them."""

from __future__ import annotations


def command_arguments(args: tuple) -> list:
    """The command's arguments as one flat list: most clients send `arguments: [a, b]`, some wrap them once more,
    `arguments: [[a, b]]` (pygls hands the handler what the client sent, unconverted, since its parameters carry no
    annotations)."""
    if len(args) == 1 and isinstance(args[0], list):
        return args[0]
    return list(args)
