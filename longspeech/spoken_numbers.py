"""Numbers, years, dates and clock times spelled out as words: how they are said.

The synthesiser speaks them so (the TTS engines would read digits themselves, and the
reference text and the spoken words could disagree: "1998" read as "one thousand nine
hundred..."), and BLAB's word answers map Whisper's digits back to the words said.
"""

from __future__ import annotations

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
         "fourteen fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_ORDINAL_ONES = ("zeroth first second third fourth fifth sixth seventh eighth ninth tenth "
                 "eleventh twelfth thirteenth fourteenth fifteenth sixteenth seventeenth "
                 "eighteenth nineteenth").split()
_ORDINAL_TENS = {"twenty": "twentieth", "thirty": "thirtieth"}


def spell(n: int) -> str:
    """0 <= n < 1,000,000 in words: 412 -> 'four hundred and twelve'."""
    if not 0 <= n < 1_000_000:
        raise ValueError(f"{n} is outside 0..999999")
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_ONES[hundreds]} hundred" + (f" and {spell(rest)}" if rest else "")
    thousands, rest = divmod(n, 1000)
    head = f"{spell(thousands)} thousand"
    if not rest:
        return head
    return head + (f" and {spell(rest)}" if rest < 100 else f" {spell(rest)}")


def ordinal(n: int) -> str:
    """1 <= n <= 31 as an ordinal: 23 -> 'twenty third'."""
    if n < 20:
        return _ORDINAL_ONES[n]
    tens, ones = divmod(n, 10)
    if not ones:
        return _ORDINAL_TENS[_TENS[tens]]
    return f"{_TENS[tens]} {_ORDINAL_ONES[ones]}"


def year(y: int) -> str:
    """A year the way it is said: 1998 -> 'nineteen ninety eight', 2007 -> 'two thousand and
    seven'."""
    if 2000 <= y < 2010:
        return spell(y)
    century, rest = divmod(y, 100)
    if rest == 0:
        return f"{spell(century)} hundred"
    return f"{spell(century)} " + (f"oh {_ONES[rest]}" if rest < 10 else spell(rest))


def clock(hour: int, minute: int) -> str:
    """A clock time: (4, 30) -> 'half past four', (10, 15) -> 'ten fifteen'."""
    h = spell(hour)
    if minute == 0:
        return f"{h} o'clock"
    if minute == 30:
        return f"half past {h}"
    if minute == 15:
        return f"quarter past {h}"
    return f"{h} {'oh ' + _ONES[minute] if minute < 10 else spell(minute)}"


def digits(ds: list[int]) -> str:
    """Digits read one by one: [4, 0, 7] -> 'four zero seven'."""
    return " ".join(_ONES[d] for d in ds)
