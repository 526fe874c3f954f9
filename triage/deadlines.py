"""Statutory clocks for information requests. Pure: dates in, dates out, no Django.

- FOI (FOIA s.10(1)): the 20th working day following the date of receipt. A working
  day (s.10(6)) is any day but a Saturday, a Sunday, Christmas Day, Good Friday or a
  bank holiday in *any* part of the UK, so a St Patrick's Day in Northern Ireland
  stops an English authority's FOI clock too.
- EIR (reg. 5(2), 7(1)): 20 working days after the date of receipt, 40 when extended
  for complexity and volume; "working day" has the FOIA s.10(6) meaning (reg. 2).
- Subject access (UK GDPR Art. 12(3)) by the ICO's corresponding-date rule: the day
  of receipt is day 1 and the answer is due on the same date next month, or that
  month's last day when it has no such date; a due date on a weekend or bank holiday
  (in the nation where the controller is) moves to the next working day. An extension
  adds two further months, counted the same way from the day of receipt.
- Clock stops: a request paused for clarification starts afresh on the day the
  answer arrives (FOIA s.1(3), EIR reg. 9(4), UK GDPR Art. 12(3) with the ICO's
  guidance), so the restart date takes the place of the date of receipt.

Holidays come from the `holidays` package, with its substitute ("observed") days.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")

# The nations a subject access clock can run in, and the `holidays` subdivisions of each.
NATIONS = {
    "england-and-wales": ("ENG", "WLS"),
    "scotland": ("SCT",),
    "northern-ireland": ("NIR",),
}
UK_WIDE = ("ENG", "WLS", "SCT", "NIR")

FOI, EIR, SAR = "foi", "eir", "sar"
REQUEST_TYPES = (FOI, EIR, SAR)


def received_date(moment: datetime) -> date:
    """The UK calendar day a request made at `moment` was received.

    A post at 23:30 UTC on a summer evening is 00:30 BST, the next day in the UK.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("received_date needs an aware datetime: a naive time has no UK day")
    return moment.astimezone(LONDON).date()


@lru_cache(maxsize=256)
def _bank_holidays(year: int, subdivisions: tuple[str, ...]) -> frozenset[date]:
    days: set[date] = set()
    for subdivision in subdivisions:
        days.update(holidays.UK(subdiv=subdivision, years=year).keys())
    return frozenset(days)


def _subdivisions(nation: str | None) -> tuple[str, ...]:
    if nation is None:
        return UK_WIDE
    try:
        return NATIONS[nation]
    except KeyError:
        raise ValueError(f"{nation!r} is not one of {', '.join(NATIONS)}") from None


def is_working_day(day: date, nation: str | None = None) -> bool:
    """Not a weekend and not a bank holiday: in `nation`, or anywhere in the UK when None."""
    if day.weekday() >= 5:
        return False
    return day not in _bank_holidays(day.year, _subdivisions(nation))


def add_working_days(start: date, count: int, nation: str | None = None) -> date:
    """The `count`th working day following `start` (which itself never counts)."""
    if count < 1:
        raise ValueError("count must be at least 1")
    day = start
    while count:
        day += timedelta(days=1)
        if is_working_day(day, nation):
            count -= 1
    return day


def next_working_day_on_or_after(day: date, nation: str | None = None) -> date:
    while not is_working_day(day, nation):
        day += timedelta(days=1)
    return day


def working_days_between(start: date, end: date, nation: str | None = None) -> int:
    """Working days after `start` up to and including `end`; negative when `end` is earlier."""
    if end < start:
        return -working_days_between(end, start, nation)
    return sum(1 for n in range(1, (end - start).days + 1) if is_working_day(start + timedelta(days=n), nation))


def corresponding_date(start: date, months: int) -> date:
    """The same day `months` later, or the last day of that month when it is shorter."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def foi_due_date(received: date) -> date:
    """FOIA s.10(1): the 20th working day following the date of receipt."""
    return add_working_days(received, 20)


def eir_due_date(received: date, extended: bool = False) -> date:
    """EIR reg. 5(2): 20 working days after receipt; reg. 7(1): 40 when extended."""
    return add_working_days(received, 40 if extended else 20)


def sar_due_date(received: date, nation: str = "england-and-wales") -> date:
    """UK GDPR Art. 12(3), by the ICO's corresponding-date rule (see the module docstring)."""
    return next_working_day_on_or_after(corresponding_date(received, 1), nation)


def sar_extended_due_date(received: date, nation: str = "england-and-wales") -> date:
    """Two further months (Art. 12(3)): three corresponding months from the day of receipt."""
    return next_working_day_on_or_after(corresponding_date(received, 3), nation)


def due_date(request_type: str, start: date, *, extended: bool = False, nation: str = "england-and-wales") -> date:
    """The due date of a clock started (or restarted after clarification) on `start`.

    An FOI public-interest extension has no formula (s.10(3): "such time as is
    reasonable"), so `extended` does not move an FOI date: the officer sets one with
    `foi_extension_checked`.
    """
    if request_type == FOI:
        return foi_due_date(start)
    if request_type == EIR:
        return eir_due_date(start, extended=extended)
    if request_type == SAR:
        return sar_extended_due_date(start, nation) if extended else sar_due_date(start, nation)
    raise ValueError(f"{request_type!r} is not one of {', '.join(REQUEST_TYPES)}")


# The ICO's view is that a public-interest extension should normally take no more than
# 20 further working days; more than that needs saying why, and is refused past 40 here.
FOI_EXTENSION_MAX_WORKING_DAYS = 40


def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def foi_extension_checked(*, current_due: date, new_due: date, reason: str) -> date:
    """A public-interest extension's new date, or ValueError saying what is wrong with it."""
    if not reason.strip():
        raise ValueError("Give the reason for the extension: it goes in the refusal notice (s.17(2)).")
    if new_due <= current_due:
        raise ValueError(f"The new date must be after the current due date, {_long(current_due)}.")
    if not is_working_day(new_due):
        raise ValueError(f"{_long(new_due)} is not a working day.")
    if working_days_between(current_due, new_due) > FOI_EXTENSION_MAX_WORKING_DAYS:
        raise ValueError(
            f"An extension of more than {FOI_EXTENSION_MAX_WORKING_DAYS} working days is not reasonable (s.10(3))."
        )
    return new_due
