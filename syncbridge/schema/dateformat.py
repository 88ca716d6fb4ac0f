"""moment.js date formats, as Metadata Menu's Date / DateTime / Time fields use them.

A :class:`MomentFormat` compiles a format such as ``"YYYY-MM-DD HH:mm"`` once and then
parses strings strictly (the whole string must match) and renders ``datetime`` values.

Supported tokens: ``YYYY YY Q M MM MMM MMMM D DD Do ddd dddd H HH h hh k kk m mm s ss
S..SSSSSS A a Z ZZ X x`` and ``[literal]`` escapes; every other character is a literal
(so the ISO ``T`` works as in moment). Month and weekday names are English, as moment's
default locale. Pure functions, no I/O.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["MomentFormat", "moment_format"]

_MONTHS = [calendar.month_name[i] for i in range(1, 13)]
_MONTHS_SHORT = [calendar.month_abbr[i] for i in range(1, 13)]
_DAYS = [calendar.day_name[i] for i in range(7)]  # Monday first, as datetime.weekday()
_DAYS_SHORT = [calendar.day_abbr[i] for i in range(7)]

# Longest tokens first so that "YYYY" wins over "YY", "MMMM" over "MM" ...
_TOKEN_RE = re.compile(
    r"\[[^\]]*\]|YYYY|YY|MMMM|MMM|MM|M|Do|DD|D|dddd|ddd|HH|H|hh|h|kk|k|mm|m|ss|s"
    r"|S{1,9}|A|a|ZZ|Z|X|x|Q"
)


def _ordinal(n: int) -> str:
    if 11 <= n % 100 <= 13:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


def _offset(value: dt.datetime, colon: bool) -> str:
    off = value.utcoffset()
    if off is None:
        return ""
    minutes = int(off.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    hh, mm = divmod(abs(minutes), 60)
    return f"{sign}{hh:02d}:{mm:02d}" if colon else f"{sign}{hh:02d}{mm:02d}"


def _twelve(hour: int) -> int:
    return hour % 12 or 12


_RENDER: dict[str, Callable[[dt.datetime], str]] = {
    "YYYY": lambda d: f"{d.year:04d}",
    "YY": lambda d: f"{d.year % 100:02d}",
    "Q": lambda d: str((d.month - 1) // 3 + 1),
    "MMMM": lambda d: _MONTHS[d.month - 1],
    "MMM": lambda d: _MONTHS_SHORT[d.month - 1],
    "MM": lambda d: f"{d.month:02d}",
    "M": lambda d: str(d.month),
    "Do": lambda d: _ordinal(d.day),
    "DD": lambda d: f"{d.day:02d}",
    "D": lambda d: str(d.day),
    "dddd": lambda d: _DAYS[d.weekday()],
    "ddd": lambda d: _DAYS_SHORT[d.weekday()],
    "HH": lambda d: f"{d.hour:02d}",
    "H": lambda d: str(d.hour),
    "kk": lambda d: f"{d.hour or 24:02d}",
    "k": lambda d: str(d.hour or 24),
    "hh": lambda d: f"{_twelve(d.hour):02d}",
    "h": lambda d: str(_twelve(d.hour)),
    "mm": lambda d: f"{d.minute:02d}",
    "m": lambda d: str(d.minute),
    "ss": lambda d: f"{d.second:02d}",
    "s": lambda d: str(d.second),
    "A": lambda d: "AM" if d.hour < 12 else "PM",
    "a": lambda d: "am" if d.hour < 12 else "pm",
    "ZZ": lambda d: _offset(d, colon=False),
    "Z": lambda d: _offset(d, colon=True),
    "X": lambda d: str(int(d.timestamp())),
    "x": lambda d: str(int(d.timestamp() * 1000)),
}

_NAMES = "|".join

_PATTERN: dict[str, str] = {
    "YYYY": r"(?P<year>\d{4})",
    "YY": r"(?P<year2>\d{2})",
    "Q": r"[1-4]",
    "MMMM": rf"(?P<monthname>{_NAMES(_MONTHS)})",
    "MMM": rf"(?P<monthabbr>{_NAMES(_MONTHS_SHORT)})",
    "MM": r"(?P<month>\d{2})",
    "M": r"(?P<month>\d{1,2})",
    "Do": r"(?P<day>\d{1,2})(?:st|nd|rd|th)",
    "DD": r"(?P<day>\d{2})",
    "D": r"(?P<day>\d{1,2})",
    "dddd": rf"(?:{_NAMES(_DAYS)})",
    "ddd": rf"(?:{_NAMES(_DAYS_SHORT)})",
    "HH": r"(?P<hour>\d{2})",
    "H": r"(?P<hour>\d{1,2})",
    "kk": r"(?P<hour24>\d{2})",
    "k": r"(?P<hour24>\d{1,2})",
    "hh": r"(?P<hour12>\d{2})",
    "h": r"(?P<hour12>\d{1,2})",
    "mm": r"(?P<minute>\d{2})",
    "m": r"(?P<minute>\d{1,2})",
    "ss": r"(?P<second>\d{2})",
    "s": r"(?P<second>\d{1,2})",
    "A": r"(?P<ampm>[AaPp][Mm])",
    "a": r"(?P<ampm>[AaPp][Mm])",
    "ZZ": r"(?P<offset>Z|[+-]\d{2}:?\d{2})",
    "Z": r"(?P<offset>Z|[+-]\d{2}:?\d{2})",
    "X": r"(?P<unix>-?\d+(?:\.\d+)?)",
    "x": r"(?P<unixms>-?\d+)",
}


@dataclass(frozen=True)
class MomentFormat:
    """A compiled moment.js format. ``has_date`` / ``has_time`` / ``has_seconds`` /
    ``has_offset`` tell which parts the format carries."""

    format: str
    tokens: tuple[tuple[bool, str], ...]  # (is_token, text)
    regex: re.Pattern[str]
    has_date: bool
    has_time: bool
    has_seconds: bool
    has_fraction: bool
    has_offset: bool

    def parse(self, text: str) -> dt.datetime | None:
        """Parse ``text`` (the whole string, case-insensitive names) into a ``datetime``,
        or ``None`` if it does not match or names an impossible date. Missing date parts
        default to 1900-01-01; a parsed offset makes the result tz-aware."""
        match = self.regex.fullmatch(text.strip())
        if match is None:
            return None
        g = {k: v for k, v in match.groupdict().items() if v is not None}
        try:
            if "unix" in g:
                return dt.datetime.fromtimestamp(float(g["unix"]), dt.UTC)
            if "unixms" in g:
                return dt.datetime.fromtimestamp(int(g["unixms"]) / 1000, dt.UTC)
            year = 1900
            if "year" in g:
                year = int(g["year"])
            elif "year2" in g:  # moment: 00-68 → 2000s, 69-99 → 1900s
                yy = int(g["year2"])
                year = 2000 + yy if yy <= 68 else 1900 + yy
            month = 1
            if "month" in g:
                month = int(g["month"])
            elif "monthname" in g:
                month = [m.lower() for m in _MONTHS].index(g["monthname"].lower()) + 1
            elif "monthabbr" in g:
                month = [m.lower() for m in _MONTHS_SHORT].index(g["monthabbr"].lower()) + 1
            day = int(g.get("day", 1))
            hour = int(g.get("hour", 0))
            if "hour24" in g:
                hour = int(g["hour24"]) % 24
            if "hour12" in g:
                h12 = int(g["hour12"])
                if not 1 <= h12 <= 12:
                    return None
                pm = g.get("ampm", "am").lower() == "pm"
                hour = h12 % 12 + (12 if pm else 0)
            elif "ampm" in g and g["ampm"].lower() == "pm" and hour < 12:
                hour += 12
            minute = int(g.get("minute", 0))
            second = int(g.get("second", 0))
            micro = 0
            if "fraction" in g:
                micro = int((g["fraction"] + "000000")[:6])
            tzinfo: dt.tzinfo | None = None
            if "offset" in g:
                off = g["offset"]
                if off.upper() == "Z":
                    tzinfo = dt.UTC
                else:
                    digits = off[1:].replace(":", "")
                    delta = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
                    tzinfo = dt.timezone(-delta if off[0] == "-" else delta)
            return dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=tzinfo)
        except (ValueError, OverflowError):
            return None

    def render(self, value: dt.datetime | dt.date | dt.time) -> str:
        """Render ``value`` with this format. A ``date`` renders time tokens as midnight; a
        ``time`` renders date tokens as 1900-01-01. Offsets render empty for naive values."""
        if isinstance(value, dt.datetime):
            moment = value
        elif isinstance(value, dt.date):
            moment = dt.datetime(value.year, value.month, value.day)
        else:
            moment = dt.datetime.combine(dt.date(1900, 1, 1), value)
        out: list[str] = []
        for is_token, text in self.tokens:
            if not is_token:
                out.append(text)
            elif text.startswith("S"):
                out.append(f"{moment.microsecond:06d}".ljust(len(text), "0")[: len(text)])
            else:
                out.append(_RENDER[text](moment))
        return "".join(out)


@functools.lru_cache(maxsize=256)
def moment_format(fmt: str) -> MomentFormat:
    """Compile the moment.js format ``fmt`` (cached)."""
    tokens: list[tuple[bool, str]] = []
    pos = 0
    for match in _TOKEN_RE.finditer(fmt):
        if match.start() > pos:
            tokens.append((False, fmt[pos : match.start()]))
        text = match.group()
        if text.startswith("["):
            tokens.append((False, text[1:-1]))
        else:
            tokens.append((True, text))
        pos = match.end()
    if pos < len(fmt):
        tokens.append((False, fmt[pos:]))
    parts: list[str] = []
    seen: set[str] = set()
    for is_token, text in tokens:
        if not is_token:
            parts.append(re.escape(text))
            continue
        pattern = rf"(?P<fraction>\d{{{len(text)}}})" if text.startswith("S") else _PATTERN[text]
        # A group may appear only once in a regex: repeated tokens match without capturing.
        for name in re.findall(r"\?P<(\w+)>", pattern):
            if name in seen:
                pattern = pattern.replace(f"?P<{name}>", "?:")
            seen.add(name)
        parts.append(pattern)
    names = {text for is_token, text in tokens if is_token}
    return MomentFormat(
        format=fmt,
        tokens=tuple(tokens),
        regex=re.compile("".join(parts), re.IGNORECASE),
        has_date=bool(names & {"YYYY", "YY", "M", "MM", "MMM", "MMMM", "D", "DD", "Do", "X", "x"}),
        has_time=bool(names & {"H", "HH", "h", "hh", "k", "kk", "m", "mm", "X", "x"}),
        has_seconds=bool(names & {"s", "ss", "X", "x"}) or any(n.startswith("S") for n in names),
        has_fraction=any(n.startswith("S") for n in names) or "x" in names,
        has_offset=bool(names & {"Z", "ZZ", "X", "x"}),
    )
