"""Statutory clocks, from worked examples counted by hand on a calendar.

Each comment counts the working days: "3=1" means the 3rd of the month is working
day 1, "x" marks a day that does not count and why. No database needed.
"""

from datetime import date, datetime, timezone

import pytest

from triage.deadlines import (
    eir_due_date,
    foi_due_date,
    foi_extension_checked,
    is_working_day,
    received_date,
    sar_due_date,
    sar_extended_due_date,
)


def test_it_counts_twenty_working_days_over_plain_weekends():
    # Received Mon 3 Jun 2024. Jun 4-7 = 1-4, 10-14 = 5-9, 17-21 = 10-14,
    # 24-28 = 15-19, Mon 1 Jul = 20. No bank holiday in June 2024.
    assert foi_due_date(date(2024, 6, 3)) == date(2024, 7, 1)


def test_it_starts_counting_after_a_weekend_receipt():
    # Received Sat 1 Jun 2024. Jun 3-7 = 1-5, 10-14 = 6-10, 17-21 = 11-15, 24-28 = 16-20.
    assert foi_due_date(date(2024, 6, 1)) == date(2024, 6, 28)


def test_it_skips_the_substitute_days_when_christmas_and_boxing_day_fall_on_a_weekend():
    # Received Wed 15 Dec 2021. Christmas Sat 25, Boxing Day Sun 26, so Mon 27 and
    # Tue 28 are substitute days; New Year's Day Sat 1 Jan 2022 gives Mon 3 Jan, and
    # Scotland's 2 January (a Sunday) gives Tue 4 Jan.
    # Dec 16 = 1, 17 = 2, 20-24 = 3-7, x27 x28, 29-31 = 8-10, x3 x4 Jan,
    # Jan 5-7 = 11-13, 10-14 = 14-18, 17 = 19, Tue 18 = 20.
    assert foi_due_date(date(2021, 12, 15)) == date(2022, 1, 18)


def test_it_skips_good_friday_and_easter_monday():
    # Received Tue 15 Apr 2025. Apr 16 = 1, 17 = 2, x18 Good Friday, x21 Easter Monday,
    # 22-25 = 3-6, 28-30 = 7-9, May 1 = 10, 2 = 11, x5 early May bank holiday,
    # 6-9 = 12-15, 12-16 = 16-20.
    assert foi_due_date(date(2025, 4, 15)) == date(2025, 5, 16)


def test_st_patricks_day_stops_the_foi_clock_even_for_an_english_authority():
    # Received Fri 14 Mar 2025. x17 St Patrick's Day (Mon, Northern Ireland),
    # 18-21 = 1-4, 24-28 = 5-9, 31 = 10, Apr 1-4 = 11-14, 7-11 = 15-19, Mon 14 = 20.
    # Counting England's holidays alone would give Fri 11 April.
    assert not is_working_day(date(2025, 3, 17))
    assert foi_due_date(date(2025, 3, 14)) == date(2025, 4, 14)


def test_st_patricks_day_on_a_sunday_gives_a_substitute_monday_and_easter_follows():
    # Received Fri 15 Mar 2024. St Patrick's Day is Sun 17, so x18 (substitute),
    # 19-22 = 1-4, 25-28 = 5-8, x29 Good Friday, x1 Apr Easter Monday, Apr 2-5 = 9-12,
    # 8-12 = 13-17, 15-17 = 18-20.
    assert foi_due_date(date(2024, 3, 15)) == date(2024, 4, 17)


def test_the_battle_of_the_boyne_stops_the_foi_clock_everywhere():
    # Received Mon 1 Jul 2024. Jul 2-5 = 1-4, 8-11 = 5-8, x12 Battle of the Boyne (Fri),
    # 15-19 = 9-13, 22-26 = 14-18, 29 = 19, Tue 30 = 20.
    assert foi_due_date(date(2024, 7, 1)) == date(2024, 7, 30)


def test_st_andrews_day_stops_the_foi_clock_everywhere():
    # Received Wed 15 Nov 2023. Nov 16 = 1, 17 = 2, 20-24 = 3-7, 27-29 = 8-10,
    # x30 St Andrew's Day (Thu, Scotland), Dec 1 = 11, 4-8 = 12-16, 11-14 = 17-20.
    assert foi_due_date(date(2023, 11, 15)) == date(2023, 12, 14)


def test_scotlands_second_of_january_stops_the_foi_clock_everywhere():
    # Received Fri 15 Dec 2023. Dec 18-22 = 1-5, x25 Christmas, x26 Boxing Day,
    # 27-29 = 6-8, x1 Jan New Year's Day, x2 Jan (Scotland), 3-5 = 9-11,
    # 8-12 = 12-16, 15-18 = 17-20.
    assert foi_due_date(date(2023, 12, 15)) == date(2024, 1, 18)


def test_a_request_received_on_a_bank_holiday_counts_from_the_next_working_day():
    # Received Good Friday 29 Mar 2024. x1 Apr Easter Monday, Apr 2-5 = 1-4,
    # 8-12 = 5-9, 15-19 = 10-14, 22-26 = 15-19, Mon 29 = 20.
    assert foi_due_date(date(2024, 3, 29)) == date(2024, 4, 29)


def test_a_request_received_on_christmas_day():
    # Received Wed 25 Dec 2024. x26 Boxing Day, 27 = 1, 30 = 2, 31 = 3, x1 Jan,
    # x2 Jan (Thu, Scotland), 3 = 4, 6-10 = 5-9, 13-17 = 10-14, 20-24 = 15-19, Mon 27 = 20.
    assert foi_due_date(date(2024, 12, 25)) == date(2025, 1, 27)


def test_eir_is_twenty_working_days_or_forty_when_extended():
    # Received Mon 3 Jun 2024: day 20 is Mon 1 Jul (as for FOI). Then Jul 2-5 = 21-24,
    # 8-11 = 25-28, x12 Boyne, 15-19 = 29-33, 22-26 = 34-38, 29 = 39, Tue 30 = 40.
    assert eir_due_date(date(2024, 6, 3)) == date(2024, 7, 1)
    assert eir_due_date(date(2024, 6, 3), extended=True) == date(2024, 7, 30)


def test_sar_is_due_on_the_corresponding_date_next_month():
    # Received Tue 3 Sep 2024; Thu 3 Oct 2024 is a working day.
    assert sar_due_date(date(2024, 9, 3)) == date(2024, 10, 3)


def test_sar_received_on_31_january_is_due_at_the_end_of_february():
    # 2023: no 31 Feb, so Tue 28 Feb. 2024 is a leap year: Thu 29 Feb.
    assert sar_due_date(date(2023, 1, 31)) == date(2023, 2, 28)
    assert sar_due_date(date(2024, 1, 31)) == date(2024, 2, 29)


def test_sar_due_on_a_weekend_moves_to_the_next_working_day():
    # Received Sat 31 Jan 2026: the last day of February 2026 is Sat 28 Feb, so Mon 2 Mar.
    assert sar_due_date(date(2026, 1, 31)) == date(2026, 3, 2)


def test_sar_moves_off_only_the_nations_own_bank_holidays():
    # Received 30 Oct 2023: 30 Nov is St Andrew's Day (Thu), a holiday in Scotland only.
    assert sar_due_date(date(2023, 10, 30)) == date(2023, 11, 30)
    assert sar_due_date(date(2023, 10, 30), nation="scotland") == date(2023, 12, 1)
    # Received 12 Jun 2024: 12 Jul is the Battle of the Boyne (Fri): Northern Ireland
    # moves to Mon 15 Jul.
    assert sar_due_date(date(2024, 6, 12), nation="northern-ireland") == date(2024, 7, 15)
    assert sar_due_date(date(2024, 6, 12), nation="england-and-wales") == date(2024, 7, 12)


def test_sar_rejects_an_unknown_nation():
    with pytest.raises(ValueError, match="scotland"):
        sar_due_date(date(2024, 1, 1), nation="wales-and-england")


def test_sar_extension_adds_two_further_months_by_the_same_rule():
    # Received 3 Sep 2024: extended to Tue 3 Dec 2024.
    assert sar_extended_due_date(date(2024, 9, 3)) == date(2024, 12, 3)
    # Received 31 Jan 2023: three months on has no 31st, so Sun 30 Apr; Mon 1 May is
    # the early May bank holiday, so Tue 2 May.
    assert sar_extended_due_date(date(2023, 1, 31)) == date(2023, 5, 2)


def test_a_post_just_before_midnight_utc_in_summer_is_received_the_next_uk_day():
    # 23:30 UTC on Mon 1 Jul 2024 is 00:30 BST on Tue 2 Jul.
    late = datetime(2024, 7, 1, 23, 30, tzinfo=timezone.utc)
    assert received_date(late) == date(2024, 7, 2)
    # From Tue 2 Jul: Jul 3-5 = 1-3, 8-11 = 4-7, x12 Boyne, 15-19 = 8-12,
    # 22-26 = 13-17, 29-31 = 18-20.
    assert foi_due_date(received_date(late)) == date(2024, 7, 31)
    # 22:59 UTC is still 23:59 BST on 1 Jul: due Tue 30 Jul as in the Boyne example.
    assert foi_due_date(received_date(datetime(2024, 7, 1, 22, 59, tzinfo=timezone.utc))) == date(2024, 7, 30)
    # In winter London is on UTC: 23:30 UTC is still the same day.
    assert received_date(datetime(2024, 1, 15, 23, 30, tzinfo=timezone.utc)) == date(2024, 1, 15)


def test_received_date_refuses_a_naive_time():
    with pytest.raises(ValueError):
        received_date(datetime(2024, 7, 1, 23, 30))


def test_a_clarification_restarts_the_foi_count_from_the_answer():
    # Received Mon 3 Jun 2024, paused, answered Mon 10 Jun: 20 working days afresh.
    # Jun 11-14 = 1-4, 17-21 = 5-9, 24-28 = 10-14, Jul 1-5 = 15-19, Mon 8 Jul = 20.
    assert foi_due_date(date(2024, 6, 10)) == date(2024, 7, 8)


def test_an_foi_extension_needs_a_reason_and_a_later_working_day():
    current = date(2024, 7, 1)
    assert foi_extension_checked(current_due=current, new_due=date(2024, 7, 29), reason="PIT") == date(2024, 7, 29)
    with pytest.raises(ValueError, match="reason"):
        foi_extension_checked(current_due=current, new_due=date(2024, 7, 29), reason="  ")
    with pytest.raises(ValueError, match="after"):
        foi_extension_checked(current_due=current, new_due=date(2024, 6, 28), reason="PIT")
    with pytest.raises(ValueError, match="not a working day"):
        foi_extension_checked(current_due=current, new_due=date(2024, 7, 12), reason="PIT")
    # St Andrew's Day 2024 is a Saturday, so Mon 2 Dec is its substitute: not a working day.
    assert not is_working_day(date(2024, 12, 2))
    with pytest.raises(ValueError, match="not reasonable"):
        foi_extension_checked(current_due=current, new_due=date(2024, 12, 3), reason="PIT")


def test_the_module_needs_no_django():
    import subprocess
    import sys

    code = "import sys, triage.deadlines; assert 'django' not in sys.modules, sorted(m for m in sys.modules if 'django' in m)"
    subprocess.run([sys.executable, "-c", code], check=True)
