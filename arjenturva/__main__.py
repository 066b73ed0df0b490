"""``python -m arjenturva`` runs the command-line interface."""

from .cli import main

main()
