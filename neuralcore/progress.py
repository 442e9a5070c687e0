"""Progress output for the training loop.

``verbose=1``: a tqdm progress bar with the current cost, on a terminal only,
and only for runs that last more than a second (tqdm is the optional extra
``progress``; without it, a terminal gets the plain lines of ``verbose=2``).
``verbose=2``: the course's ``Cost after iteration 100: 0.584508`` lines.
"""

from __future__ import annotations

import sys
from typing import NamedTuple, TextIO

__all__ = ["Progress", "Verbosity", "interactive"]


class Verbosity(NamedTuple):
    """How much :func:`neuralcore.train.train` reports, and where.

    ``level``: 0 silent, 1 a progress bar, 2 the course's lines; ``print_every``:
    epochs between two lines (default: see
    :func:`neuralcore.train.default_print_every`); ``stream``: where the lines
    go (default: standard output); ``first``: the number the first epoch is
    printed with (a warm fit continues the numbering of ``loss_curve_``).
    """

    level: int = 0
    print_every: int | None = None
    stream: TextIO | None = None
    first: int = 0


class Progress:
    """Reports epochs as they finish and costs as they are read back."""

    def __init__(self, total: int, *, verbose: int, print_every: int, full_batch: bool, stream=None, first: int = 0):
        self.stream = sys.stdout if stream is None else stream
        self.first = int(first)  # added to the printed numbers: a warm fit's lines continue the history's
        self.print_every = max(1, int(print_every))
        self.unit = "iteration" if full_batch else "epoch"
        self.bar = None
        self.lines = verbose >= 2
        if verbose == 1:
            try:
                from tqdm.auto import tqdm
            except Exception:  # tqdm missing, or installed but broken: a bar is a nicety, never a failed fit
                self.lines = interactive(sys.stderr)
            else:
                # disable=None: no bar when stderr is not a terminal (logs, CI, pipes)
                self.bar = tqdm(total=total, unit=self.unit[:2] if full_batch else "ep", disable=None, delay=1.0, leave=False, dynamic_ncols=True)

    def advance(self):
        if self.bar is not None:
            self.bar.update(1)

    def report(self, first: int, costs: list):
        if self.bar is not None and costs:
            self.bar.set_postfix(cost=f"{costs[-1]:.6f}", refresh=False)
        if self.lines:
            for index, cost in enumerate(costs, start=first + self.first):
                if index % self.print_every == 0:
                    print(f"Cost after {self.unit} {index}: {cost:f}", file=self.stream, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def interactive(stream) -> bool:
    """Whether ``stream`` is a terminal (a person watches it)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
