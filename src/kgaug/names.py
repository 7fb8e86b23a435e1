"""Deterministic names for fictitious entities.

Fictitious entities must look like their role (a country like a country, a city like a
city, a novel like a novel) and must never collide with a real entity of the graph:
:class:`NameGenerator` builds pronounceable invented words from syllables, seeded, and
checks every name against the labels it was given.

:class:`LabelStyle` learns what the labels of one role look like from its real members:
numbers in a range (years), or word shapes with the words that recur across members kept
("(novel)", "New", "of", a common first name) and the others replaced by invented words
of similar length and the same capitalization. Without a style, names follow the declared
type (Person, Location, Object, Date). Dates are years (a reused year is the same entity,
which is what a date is).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from kgaug._validate import check_seed

__all__ = ["LabelStyle", "NameGenerator"]

_NUMBER = re.compile(r"^-?\d+$")
_TOKEN = re.compile(r"^([^\w]*)(.*?)([^\w]*)$", re.UNICODE)
_CODE = re.compile(r"^([A-Za-z_]+)(\d+)$")  # identifiers such as e190, Q42

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


class LabelStyle:
    """What the labels of one role look like, learned from real member labels.

    Parameters
    ----------
    labels : sequence of str
        Labels of the role's real members (at most ``max_labels`` are used).
    max_labels : int
        Cap on the labels studied (the first ones, which is deterministic).

    Examples
    --------
    >>> style = LabelStyle(["1950", "1987", "2001"])
    >>> style.numeric, style.low, style.high
    (True, 1950, 2001)
    >>> LabelStyle(["Jaws (novel)", "Dune (novel)", "Rebecca (novel)", "Emma"]).keep
    frozenset({'(novel)'})
    """

    def __init__(self, labels: Sequence[str], max_labels: int = 2000) -> None:
        labels = [str(x) for x in list(labels)[:max_labels] if str(x).strip()]
        self.size = len(labels)
        nums = [int(x) for x in labels if _NUMBER.match(x)]
        self.numeric = bool(labels) and len(nums) >= 0.9 * len(labels)
        self.low = min(nums) if nums else 0
        self.high = max(nums) if nums else 0
        self.shapes: list[list[str]] = [x.split() for x in labels if not _NUMBER.match(x)]
        counts: Counter[str] = Counter()
        for words in self.shapes:
            counts.update(set(words))
        need = max(3, int(0.05 * len(self.shapes)))
        self.keep = frozenset(
            w
            for w, n in counts.items()
            if n >= need or (w.isalpha() and w.islower() and len(w) <= 3)
        )

    def __repr__(self) -> str:
        if self.numeric:
            return f"LabelStyle(numeric {self.low}..{self.high}, {self.size} labels)"
        kept = ", ".join(sorted(self.keep)[:6])
        return f"LabelStyle({self.size} labels, keeps: {kept or '-'})"


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
        self._rng = np.random.default_rng(check_seed(seed))
        self._taken = set(taken)
        self._widen = 0
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

    def _styled(self, style: LabelStyle) -> str:
        if style.numeric or not style.shapes:
            # within the members' range; widened into the past when it runs out
            low = style.low - self._widen * max(style.high - style.low, 10)
            return str(int(self._rng.integers(low, style.high + 1)))
        shape = style.shapes[int(self._rng.integers(len(style.shapes)))]
        out = []
        for w in shape:
            if w in style.keep:
                out.append(w)
                continue
            m = _TOKEN.match(w)
            pre, core, post = m.groups() if m else ("", w, "")
            if not core:
                out.append(w)
            elif core.isdigit() or _CODE.match(core):
                # numbers and identifiers keep their shape; more digits once it gets crowded
                code = _CODE.match(core)
                letters, num = (code.group(1), code.group(2)) if code else ("", core)
                n = len(num) + self._widen
                digits = "".join(str(int(d)) for d in self._rng.integers(0, 10, n))
                out.append(pre + letters + (digits.lstrip("0") or "1") + post)
            else:
                word = self._word(max(1, round(len(core) / 3)))
                if core[:1].islower():
                    word = word.lower()
                elif core.isupper() and len(core) > 1:
                    word = word.upper()
                out.append(pre + word + post)
        return " ".join(out)

    def name_like(self, style: LabelStyle, unique: bool = True) -> str:
        """A new name shaped like the labels of a role (see :class:`LabelStyle`).

        Numbers (years) may reuse a taken value unless ``unique``; every other name is
        new.
        """
        for attempt in range(60):
            self._widen = attempt // 15
            name = self._styled(style)
            if not unique and style.numeric:
                return name
            if name not in self._taken:
                self._taken.add(name)
                return name
        base, k = self._styled(style), 2
        name = f"{base} {k}"
        while name in self._taken:
            k += 1
            name = f"{base} {k}"
        self._taken.add(name)
        return name

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
