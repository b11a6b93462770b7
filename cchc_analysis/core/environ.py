"""An environment variable set for a block: this process and the processes it starts see it.

Why: settings reach a run's workers and kernels through the environment (the counting
convention, the run's shared folder); a block that sets one must leave it as it found it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def variable_set(name: str, value: str) -> Iterator[None]:
    """``name`` is ``value`` within the block, then what it was before (or unset again)."""
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous
