class InputError(Exception):
    """Bad user input: the CLI prints the one-line message and exits with status 2."""


class Undecided(Exception):
    """An exact decision exceeded its budget; the message says which and how far."""
