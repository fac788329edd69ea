"""What Wave does not document, played either way (WaveSandbox.play_undocumented):

- `precision`: "ms" (the default) or "s": `modifiedAt` (and `createdAt`) kept to the second, so
  two writes within one second share a stamp; a `modifiedAtAfter` bound is cut to the second too.
- `after_inclusive`: whether `modifiedAtAfter` keeps records stamped exactly at the bound.
- `payments_bump_modified_at`: whether a payment moves the invoice's `modifiedAt`.

The store's clock goes through `StampingClock`, which also lets a test move Wave's time on.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import util

PRECISIONS = ("ms", "s")


@dataclass
class Undocumented:
    precision: str = "ms"
    after_inclusive: bool = False
    payments_bump_modified_at: bool = True

    def cut(self, ms: int) -> int:
        return ms - ms % 1000 if self.precision == "s" else ms

    def after(self, stamp: str, bound: str) -> bool:
        """Whether a record stamped `stamp` is listed by `modifiedAtAfter: bound`."""
        at, limit = util.parse_datetime_ms(stamp), self.cut(util.parse_datetime_ms(bound))
        return at >= limit if self.after_inclusive else at > limit


class StampingClock:
    """The store's clock as Wave stamps with it: the inner clock (util.Clock, or a test's), moved
    on by `advance`, kept to the played precision."""

    def __init__(self, inner, undocumented: Undocumented):
        self.inner, self.undocumented, self.offset_ms = inner, undocumented, 0
        self.held_ms: int | None = None

    def advance(self, seconds: float) -> None:
        self.offset_ms += int(seconds * 1000)

    def hold(self, held: bool = True) -> None:
        """Stop Wave's clock where it is (writes share its instant, e.g. one second) or let it go on."""
        self.held_ms = self.inner.now_ms() if held else None

    def now_ms(self) -> int:
        moment = self.held_ms if self.held_ms is not None else self.inner.now_ms()
        return self.undocumented.cut(moment + self.offset_ms)

    def now(self) -> str:
        ms = self.now_ms()
        if self.undocumented.precision == "s":
            return util.format_ms(ms)[:-5] + "Z"  # "2026-12-03T10:00:05Z": no fraction at all
        return util.format_ms(ms)
