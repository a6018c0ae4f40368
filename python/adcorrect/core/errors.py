class InputError(Exception):
    """Bad user input: the CLI prints the one-line message and exits with status 2."""


class Undecided(Exception):
    """An exact decision that would exceed its budget; ``reason`` is one line saying which sizes.

    Raised instead of guessing: callers report the question as undecided.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
