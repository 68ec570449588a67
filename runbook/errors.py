"""Exit codes and the one exception every command may raise for unusable input.

Exit codes: 0 success; 1 the plan or run has errors; 2 unusable input (one message on stderr,
never a traceback); 70 a bug in runbook itself (EX_SOFTWARE).
"""

OK, FINDINGS, UNUSABLE, INTERNAL = 0, 1, 2, 70


class Unusable(Exception):
    """Input the command cannot use; the message goes to stderr, exit code 2."""
