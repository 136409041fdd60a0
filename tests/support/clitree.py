"""The `ragmed` command tree as {"docs list": command, ...} (for tests that check every command)."""

from __future__ import annotations

import click


def leaf_commands(group: click.Group, prefix: str = "") -> dict[str, click.Command]:
    out = {}
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            out.update(leaf_commands(cmd, f"{prefix}{name} "))
        else:
            out[prefix + name] = cmd
    return out
