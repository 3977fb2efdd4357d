"""Errors of the local stack runner."""


class StackError(RuntimeError):
    """The local stack could not be started, checked or stopped; the message says what and where."""


class MissingDependencyError(StackError):
    """A program or jar the stack needs is not installed (``make setup`` installs it)."""
