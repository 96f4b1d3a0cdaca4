"""The one root of every error a user may see: the CLI prints it as one line."""


class BenchagentError(Exception):
    """Bad input, an unusable run, a model or pool that cannot serve: one line for the user."""


class UserError(BenchagentError):
    """Bad input from the user (a query, a flag, a file)."""
