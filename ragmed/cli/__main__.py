"""`python -m ragmed.cli` runs the `ragmed` command."""

from . import main

main()
