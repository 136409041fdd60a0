"""Quantities a clinical sentence states: number + unit, normalised, so that a claim's "25 mg" can be
compared with a passage's "25µg" (not the same) and "1 mg" with "1000 µg" (the same).

Shapes: `quantities(text) -> list[Quantity]`; `Quantity.same_as(other) -> bool | None` (None: the
units measure different things, e.g. mg against mmol/L or weeks against mg).

Parsing is a fixed alias table (below), not pint's own parser: clinical text writes units that pint
does not know ("mcg", "IU", "units", "MME", "x 10^9/L", "once a day") and pint's string parser
raises or guesses on free text. pint (a well-kept units library) does the conversions: it knows
that 1000 µg = 1 mg, 1 L = 1000 mL and that 4 weeks (28 days) are not 4 months (30.4 days), and it
refuses to convert between dimensions (mg/dL vs mmol/L need a molar mass the text does not give, so
they never count as the same). International units and morphine milligram equivalents are added
to pint as their own dimensions (`_registry`). quantulum3 was not used: it needs a classifier model
for ambiguous units and does not normalise "mcg" or "10⁹/L".

Ranges ("2-4 weeks", "2 to 4 weeks", "2–4") keep both ends; a rate's period ("per day", "a day",
"daily", "/day", "once a day") is kept in `per` and compared when both sides give one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# unit alias (lower case, as written) -> (pint unit, how ragmed writes it in a reason)
_UNITS: dict[str, tuple[str, str]] = {}


def _add(pint_name: str, shown: str, *aliases: str) -> None:
    for a in aliases:
        _UNITS[a] = (pint_name, shown)


_add("microgram", "µg", "µg", "μg", "mcg", "ug", "microgram", "micrograms", "microgramme", "microgrammes")
_add("milligram", "mg", "mg", "mgs", "milligram", "milligrams", "milligramme", "milligrammes")
_add("gram", "g", "g", "gm", "gms", "gram", "grams", "gramme", "grammes")
_add("kilogram", "kg", "kg", "kgs", "kilogram", "kilograms")
_add("nanogram", "ng", "ng", "nanogram", "nanograms")
_add("milliliter", "mL", "ml", "millilitre", "millilitres", "milliliter", "milliliters")
_add("liter", "L", "l", "litre", "litres", "liter", "liters")
_add("deciliter", "dL", "dl", "decilitre", "deciliter")
_add("IU", "IU", "iu", "i.u.", "international units", "international unit", "units", "unit")
_add("millimole", "mmol", "mmol", "millimole", "millimoles")
_add("MME", "MME", "mme", "morphine milligram equivalents", "morphine milligram equivalent",
     "morphine equivalent", "mg morphine equivalent")
_add("kilocalorie", "kcal", "kcal", "calories", "kilocalories", "calorie")
_add("minute", "minutes", "min", "mins", "minute", "minutes")
_add("hour", "hours", "h", "hr", "hrs", "hour", "hours")
_add("day", "days", "d", "day", "days")
_add("week", "weeks", "wk", "wks", "week", "weeks")
_add("month", "months", "mo", "month", "months")
_add("year", "years", "y", "yr", "yrs", "year", "years")
_add("percent", "%", "%", "percent", "per cent")
_add("cup", "cups", "cup", "cups")
_add("teaspoon", "teaspoons", "teaspoon", "teaspoons", "tsp")
_add("tablespoon", "tablespoons", "tablespoon", "tablespoons", "tbsp")
_add("serving", "servings", "serving", "servings", "portion", "portions")
_add("mmHg", "mmHg", "mmhg", "mm hg")
_add("10^9/L", "×10⁹/L", "x10^9/l", "x 10^9/l", "×10^9/l", "× 10^9/l", "x 10⁹/l", "×10⁹/l", "× 10⁹/l",
     "x10⁹/l", "10⁹/l", "10^9/l", "x 109/l", "×109/l")

_NUMBER_WORDS = {w: float(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())}
_NUMBER_WORDS.update({"fifteen": 15.0, "twenty": 20.0, "thirty": 30.0, "forty": 40.0, "fifty": 50.0,
                      "sixty": 60.0, "ninety": 90.0, "hundred": 100.0})
_TIMES = {"once": 1.0, "twice": 2.0, "thrice": 3.0}

_PERIODS = {"day": "day", "daily": "day", "d": "day", "week": "week", "weekly": "week", "wk": "week",
            "month": "month", "monthly": "month", "hour": "hour", "h": "hour", "hr": "hour",
            "year": "year", "yearly": "year", "annually": "year", "kg": "kg", "dose": "dose", "dl": "dL",
            "l": "L", "ml": "mL"}

_NUM = r"\d+(?:[.,]\d+)*|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
_ALIASES = "|".join(re.escape(a) for a in sorted(_UNITS, key=len, reverse=True))
_QTY = re.compile(
    rf"(?<![\w.])(?P<lo>{_NUM})(?:\s*(?:-|–|—|to)\s*(?P<hi>{_NUM}))?"
    rf"(?:\s*-?\s*(?P<unit>{_ALIASES})(?![a-zA-Z0-9]))?"
    r"(?:\s*(?:/|per|a|an|each|every)\s*(?P<per>day|week|month|hour|h|hr|d|wk|year|kg|dose|dl|l|ml)(?![a-zA-Z]))?"
    r"(?:\s+(?:once\s+|twice\s+)?(?P<daily>daily|weekly|monthly|yearly|annually))?",
    re.IGNORECASE)
_FREQ = re.compile(r"\b(?P<n>once|twice|thrice|(?:one|two|three|four|five|six)\s+times)\s+(?:a|per|each|every)\s+"
                   r"(?P<per>day|week|month|hour|year)\b|\b(?P<alone>once|twice)\s+(?P<adv>daily|weekly|monthly)\b",
                   re.IGNORECASE)


# a blood pressure: systolic/diastolic, mmHg written or not ("130/80", "140/90 mm Hg")
_BP = re.compile(r"(?<![\w./])(?P<sys>\d{2,3})\s*/\s*(?P<dia>\d{2,3})(?![\d./])(?:\s*mm\s*hg\b)?", re.IGNORECASE)


@dataclass(frozen=True)
class Quantity:
    """One stated quantity: `low` (and `high` for a range) in `unit` (a pint unit name, "" when
    the number stands alone), optionally per `per` ("day", "kg", ...); `start`/`end` are character
    offsets in the text it was read from."""

    low: float
    high: float | None
    unit: str
    per: str
    start: int
    end: int
    text: str
    second: float | None = None  # a blood pressure's diastolic value ("130/80 mmHg": low 130, second 80)

    @property
    def shown(self) -> str:
        """How a reason writes it: "25 µg", "2–4 weeks", "0.75 mg/kg", "20 µg a day"."""
        if self.unit == "times":
            n = {1.0: "once", 2.0: "twice"}.get(self.low, f"{_fmt(self.low)} times")
            return f"{n} a {self.per}"
        if self.second is not None:
            return f"{_fmt(self.low)}/{_fmt(self.second)} mmHg"
        n = _fmt(self.low) + (f"–{_fmt(self.high)}" if self.high is not None else "")
        unit = next((s for p, s in _UNITS.values() if p == self.unit), self.unit)
        out = f"{n} {unit}".strip() if unit != "%" else f"{n}%"
        if self.per in ("kg", "dL", "L", "mL"):
            return f"{out}/{self.per}"
        return f"{out} a {self.per}" if self.per else out

    def same_as(self, other: "Quantity") -> bool | None:
        """Same amount (after unit conversion)? None when the two cannot be compared (different
        kinds of unit); a bare number compares by value with any unit. A blood pressure
        ("130/80") is the same only as a blood pressure with both values equal."""
        if self.second is not None or other.second is not None:
            if self.second is None or other.second is None:  # "systolic 130 mmHg" against "130/80"
                bp, one = (self, other) if self.second is not None else (other, self)
                if one.high is not None or (one.unit and one.unit != "mmHg"):
                    return None if one.unit else False
                return _close(one.low, bp.low) or _close(one.low, bp.second)
            return _close(self.low, other.low) and _close(self.second, other.second)
        if self.unit and other.unit:
            if self.per and other.per and self.per != other.per:
                return None if _base(self.per) != _base(other.per) else False
            f = _factor(self.unit, other.unit)
            if f is None:
                return None
        else:
            f = 1.0
        a = (self.low * f, None if self.high is None else self.high * f)
        b = (other.low, other.high)
        if a[1] is None and b[1] is not None:  # a single value matches either end of a range
            return _close(a[0], b[0]) or _close(a[0], b[1])
        if a[1] is not None and b[1] is None:
            return False
        return _close(a[0], b[0]) and (a[1] is None or _close(a[1], b[1]))


def _fmt(v: float) -> str:
    return f"{v:g}" if abs(v) < 1e6 else f"{v:,.0f}"


def _close(a: float, b: float | None) -> bool:
    return b is not None and abs(a - b) <= 1e-6 * max(abs(a), abs(b), 1e-9)


def _base(per: str) -> str:
    return "time" if per in ("day", "week", "month", "hour", "year") else per


@lru_cache(maxsize=1)
def _registry():
    import pint

    ureg = pint.UnitRegistry()
    ureg.define("IU = [international_unit]")
    ureg.define("MME = [morphine_equivalent]")
    ureg.define("serving = [serving]")
    return ureg


@lru_cache(maxsize=512)
def _factor(a: str, b: str) -> float | None:
    """The number that converts a value in unit `a` to unit `b` (None: different dimensions)."""
    if a == b:
        return 1.0
    if "10^9/L" in (a, b) or "mmHg" in (a, b):
        return None
    import pint

    ureg = _registry()
    try:
        return float(ureg.Quantity(1.0, a).to(b).magnitude)
    except (pint.errors.DimensionalityError, pint.errors.UndefinedUnitError):
        return None


def _value(s: str) -> float:
    s = s.lower()
    if s in _NUMBER_WORDS:
        return _NUMBER_WORDS[s]
    if re.fullmatch(r"\d{1,3}(,\d{3})+", s):
        s = s.replace(",", "")
    return float(s.replace(",", "."))


def quantities(text: str) -> list[Quantity]:
    """Every quantity `text` states, in order (see the module docstring). Citation markers such as
    "[2]" and years in parentheses are not quantities; a number written "1,000" is 1000."""
    out: list[Quantity] = []
    taken: list[tuple[int, int]] = []
    for m in _FREQ.finditer(text):
        n = m.group("n") or m.group("alone")
        n0 = n.split()[0].lower()
        value = _TIMES.get(n0, _NUMBER_WORDS.get(n0, 1.0))
        per = (m.group("per") or {"daily": "day", "weekly": "week", "monthly": "month"}[m.group("adv").lower()]).lower()
        out.append(Quantity(value, None, "times", per, m.start(), m.end(), m.group(0)))
        taken.append((m.start(), m.end()))
    for m in _BP.finditer(text):
        sys_, dia = float(m.group("sys")), float(m.group("dia"))
        if 60 <= sys_ <= 260 and 30 <= dia <= 160 and sys_ > dia:
            out.append(Quantity(sys_, None, "mmHg", "", m.start(), m.end(), m.group(0).strip(), dia))
            taken.append((m.start(), m.end()))
    for m in _QTY.finditer(text):
        if any(s <= m.start() < e for s, e in taken):
            continue
        if text[max(0, m.start() - 1):m.start()] == "[" or m.group("lo").lower() in ("one",) and not m.group("unit"):
            continue  # a citation marker, or "one" used as a pronoun
        try:
            lo = _value(m.group("lo"))
            hi = _value(m.group("hi")) if m.group("hi") else None
        except ValueError:
            continue
        unit_raw = (m.group("unit") or "").lower()
        unit = _UNITS[unit_raw][0] if unit_raw else ""
        per_raw = (m.group("per") or "").lower()
        per = _PERIODS.get(per_raw, "")
        if m.group("daily"):
            per = _PERIODS[m.group("daily").lower()]
        if not unit and m.group("lo").lower() in _NUMBER_WORDS and not per:
            continue  # "two of the twelve recommendations": counted words are not measurements
        if unit_raw in ("l", "d", "y", "h", "g", "mo") and not re.match(r"\d", m.group("lo")):
            unit = ""  # "one a" / "two d": a lone letter after a number word is not a unit
        out.append(Quantity(lo, hi, unit, per, m.start(), m.end(), m.group(0).strip()))
    out.sort(key=lambda q: q.start)
    return out


@lru_cache(maxsize=8192)
def cached(text: str) -> tuple[Quantity, ...]:
    """`quantities(text)` as a tuple, computed once per text (the checker reads the same passage
    sentences for every claim)."""
    return tuple(quantities(text))
