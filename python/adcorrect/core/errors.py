class OneLine(Exception):
    """An exception whose message stays the one it was raised with: ``torch.fx``'s
    interpreter appends the node it was executing (several lines) to the arguments of
    whatever a node raises, and the CLI prints messages as one line."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        self.message = str(args[0]) if args else ""

    def __str__(self) -> str:
        return self.message


class InputError(OneLine):
    """Bad user input: the CLI prints the one-line message and exits with status 2."""


class LimitExceeded(InputError):
    """A size limit (:mod:`.limits`) exceeded: bad input where nothing else can answer,
    a reason to take another route where something can (the tensor filter)."""


class Undecided(Exception):
    """An exact decision that would exceed its budget; ``reason`` is one line saying which sizes.

    Raised instead of guessing: callers report the question as undecided.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
