"""Deterministic names for fictitious entities.

Fictitious entities must look like their type (a person, a place, a film) and must never
collide with a real entity of the graph: :class:`NameGenerator` builds pronounceable
invented words from syllables, seeded, and checks every name against the labels it was
given. Dates are years (a reused year is the same entity, which is what a date is).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

__all__ = ["NameGenerator"]

_ONSETS = (
    "b",
    "br",
    "c",
    "d",
    "dr",
    "f",
    "g",
    "gr",
    "h",
    "k",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "st",
    "t",
    "th",
    "v",
    "z",
    "",
)
_VOWELS = ("a", "e", "i", "o", "u", "ae", "ia", "ou", "ei")
_CODAS = ("", "", "n", "r", "l", "s", "th", "nd", "rk", "m")
_PLACE_FORMS = (
    "{w}",
    "{w}",
    "Port {w}",
    "{w} Falls",
    "Lake {w}",
    "{w}ford",
    "{w}ton",
    "New {w}",
    "{w} Bay",
    "Saint {w}",
)
_TITLE_ADJ = (
    "Silent",
    "Last",
    "Hidden",
    "Crimson",
    "Distant",
    "Broken",
    "Golden",
    "Long",
    "Quiet",
    "Burning",
    "Frozen",
    "Hollow",
    "Wandering",
    "Secret",
    "Pale",
)
_TITLE_NOUN = (
    "Orchard",
    "Harbor",
    "Letter",
    "Garden",
    "River",
    "Crown",
    "Season",
    "Mirror",
    "Station",
    "Tide",
    "Lantern",
    "Summer",
    "Archive",
    "Bridge",
    "Meridian",
)


class NameGenerator:
    """Unique, type-aware fictitious names.

    Parameters
    ----------
    seed : int
        Random seed; the same seed and the same calls give the same names.
    taken : iterable of str
        Labels that must not be produced (the graph's entities).
    year_range : tuple of int
        Years drawn for ``Date`` entities.

    Examples
    --------
    >>> gen = NameGenerator(seed=0, taken={"Paris"})
    >>> name = gen.name("Person")
    >>> name == NameGenerator(seed=0, taken={"Paris"}).name("Person")
    True
    """

    def __init__(
        self, seed: int = 0, taken: Iterable[str] = (), year_range: tuple[int, int] = (1900, 2020)
    ) -> None:
        self._rng = np.random.default_rng(seed)
        self._taken = set(taken)
        self._years = year_range

    def _pick(self, options: tuple[str, ...]) -> str:
        return options[int(self._rng.integers(len(options)))]

    def _word(self, syllables: int) -> str:
        w = "".join(self._pick(_ONSETS) + self._pick(_VOWELS) for _ in range(syllables))
        return (w + self._pick(_CODAS)).capitalize()

    def _raw(self, type_: str | None) -> str:
        if type_ == "Person":
            return f"{self._word(2)} {self._word(int(self._rng.integers(2, 4)))}"
        if type_ == "Location":
            return self._pick(_PLACE_FORMS).format(w=self._word(2))
        if type_ == "Object":
            return f"The {self._pick(_TITLE_ADJ)} {self._pick(_TITLE_NOUN)} of {self._word(2)}"
        if type_ == "Date":
            return str(int(self._rng.integers(self._years[0], self._years[1] + 1)))
        return f"{type_ or 'Entity'} {self._word(2)}"

    def name(self, type_: str | None, unique: bool | None = None) -> str:
        """A new name for an entity of ``type_`` (Person, Location, Object, Date, other).

        Names never repeat a taken label, except that a ``Date`` (a year) may reuse an
        existing value unless ``unique=True``: a year is the same entity wherever it is a
        tail, but a fictitious entity that *has* facts needs its own label.
        """
        if type_ == "Date" and not unique:
            return self._raw(type_)
        if type_ == "Date":
            for _ in range(100):
                year = self._raw(type_)
                if year not in self._taken:
                    self._taken.add(year)
                    return year
        base = self._raw(type_)
        name, k = base, 2
        while name in self._taken:
            name = f"{base} {k}"
            k += 1
        self._taken.add(name)
        return name

    def names(self, type_: str | None, count: int) -> list[str]:
        """``count`` new names of one type."""
        return [self.name(type_) for _ in range(count)]
