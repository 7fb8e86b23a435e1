"""Progress bars (tqdm) with one switch for the whole library."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

__all__ = ["progress_bar"]


class _NullBar:
    def update(self, n: int = 1) -> None:
        pass


@contextlib.contextmanager
def progress_bar(
    *, total: int | None, desc: str, unit: str = "it", enabled: object = None, **kw: Any
) -> Iterator[Any]:
    """A tqdm bar, or a no-op object when ``enabled`` is False.

    ``enabled=None`` lets tqdm decide (shown on an interactive terminal or in a notebook,
    hidden when output is redirected).
    """
    if enabled is False:
        yield _NullBar()
        return
    from tqdm.auto import tqdm

    disable = None if enabled is None else not bool(enabled)
    with tqdm(total=total, desc=desc, unit=unit, disable=disable, leave=False, **kw) as bar:
        yield bar
