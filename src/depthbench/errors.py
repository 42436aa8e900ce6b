"""Errors that carry a message meant for the user, not a traceback."""


class DepthbenchError(Exception):
    """Base class: the CLI prints ``error: <message>`` and exits with status 2."""


class ConfigError(DepthbenchError, ValueError):
    """A config value is invalid. The message names the key and what is allowed."""

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        super().__init__(f"{key}: {problem}")


class ResultsError(DepthbenchError):
    """A results directory or file cannot be used (missing, corrupt, foreign)."""


class Interrupted(KeyboardInterrupt):
    """A job stopped by SIGINT or SIGTERM; the message says what it stored and that the
    same command resumes (every stored cell is whole: files are renamed into place)."""

    def __init__(self, stored: int, left: int) -> None:
        super().__init__(
            f"interrupted: {stored} runs stored by this job, {left} left; run the "
            "same command again to train the rest"
        )
