class InputError(Exception):
    """Bad user input: the CLI prints the one-line message and exits with status 2."""
