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

