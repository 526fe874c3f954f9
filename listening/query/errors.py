"""The two exceptions the query language raises."""


class QuerySyntaxError(ValueError):
    """A query that cannot be parsed.

    `message` is a sentence a comms officer understands; `position` is the 0-based
    character offset into the query string where the problem is (the app shows a
    caret there).
    """

    def __init__(self, message: str, position: int):
        super().__init__(message, position)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return self.message


class QueryNotSupported(Exception):
    """A query that cannot be compiled for a platform; `reason` is shown in the UI."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason
