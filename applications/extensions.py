"""Where later stages widen who may read a bid, without this stage importing them.

The assessment stage lets an assessor read (and download the files of) a bid assigned to
them with no conflict declared: from its ``AppConfig.ready()`` it calls
``register_bid_reader(fn)`` with ``fn(user, bid) -> bool``. Readers see the bid's read-only
page and its attachments; they never change it, and bids they may read are not added to
``bids_visible_to`` lists (each stage lists its own).
"""

from __future__ import annotations

from collections.abc import Callable

bid_readers: list[Callable] = []


def register_bid_reader(fn: Callable) -> Callable:
    if fn not in bid_readers:
        bid_readers.append(fn)
    return fn


def unregister_bid_reader(fn: Callable) -> None:
    if fn in bid_readers:
        bid_readers.remove(fn)


def read_by_later_stage(user, bid) -> bool:
    return any(fn(user, bid) for fn in bid_readers)
