"""``python -m carnet``: the same as the ``carnet`` command."""

from carnet.cli import main

main()
