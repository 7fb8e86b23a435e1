"""Argument checks shared by the public functions (errors name the argument)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Real
from typing import Literal, overload

import numpy as np

__all__ = [
    "check_bool",
    "check_count",
    "check_hop_list",
    "check_hops",
    "check_int",
    "check_positive",
    "check_seed",
]

CountMode = Literal["facts", "paths"]

#: Chain lengths counted exactly.
EXACT_HOPS = (2, 3)


def check_hops(hops: object, allowed: tuple[int, ...] = EXACT_HOPS) -> int:
    """A chain length in ``allowed``; longer exact counts point to sampling."""
    if isinstance(hops, bool) or not isinstance(hops, (int, np.integer)):
        raise TypeError(f"hops must be an int, got {type(hops).__name__} {hops!r}")
    if int(hops) not in allowed:
        if allowed == EXACT_HOPS:
            raise ValueError(
                f"hops={hops}: exact counting supports {allowed[0]}- and {allowed[-1]}-hop "
                "chains (the number of longer chains explodes combinatorially); for longer "
                "chains use sampling: kgaug.sample_paths(kg, hops=4, ...)"
            )
        raise ValueError(f"hops must be one of {allowed}, got {hops!r}")
    return int(hops)


def check_hop_list(hops: object) -> tuple[int, ...]:
    """An int (2 or 3) or a non-empty sequence of distinct ones, as a tuple."""
    if isinstance(hops, (int, np.integer)) and not isinstance(hops, bool):
        return (check_hops(hops),)
    if isinstance(hops, (str, bytes)) or not isinstance(hops, Iterable):
        raise TypeError(
            f"hops must be an int or a sequence of ints, got {type(hops).__name__} {hops!r}"
        )
    if isinstance(hops, (set, frozenset)):
        hops = sorted(hops, key=lambda h: (not isinstance(h, (int, np.integer)), str(h)))
    hops = list(hops)
    if len(hops) == 0:
        raise ValueError("hops is empty; give an int (2 or 3) or a tuple such as (2, 3)")
    out = tuple(check_hops(h) for h in hops)
    if len(set(out)) != len(out):
        raise ValueError(f"hops {out} repeats a chain length")
    return out


@overload
def check_seed(seed: object, name: str = ..., *, allow_none: Literal[False] = ...) -> int: ...
@overload
def check_seed(seed: object, name: str = ..., *, allow_none: bool) -> int | None: ...
def check_seed(seed: object, name: str = "seed", *, allow_none: bool = False) -> int | None:
    """A seed for numpy's generators: a non-negative integer (or ``None``: fresh entropy)."""
    if seed is None and allow_none:
        return None
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(
            f"{name} must be a non-negative integer, got {type(seed).__name__} {seed!r}"
        )
    if seed < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {seed}")
    return int(seed)


def check_count(count: object) -> CountMode:
    """``"facts"`` or ``"paths"``."""
    if count == "facts":
        return "facts"
    if count == "paths":
        return "paths"
    raise ValueError(f"count must be 'facts' or 'paths', got {count!r}")


def check_bool(value: object, name: str) -> bool:
    """A real boolean (``"no"`` is not ``False``)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {value!r}")


def check_positive(value: object, name: str) -> float:
    """A positive finite number (booleans and strings such as ``"3.6"`` are refused)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (Real, np.number)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    try:
        x = float(value)
    except OverflowError:  # an int beyond float range
        raise ValueError(f"{name} must be a positive finite number, got {value!r}") from None
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(x) or x <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return x


def check_int(value: object, name: str, *, minimum: int | None = None) -> int:
    """An integer (not a bool or a float), at least ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)
