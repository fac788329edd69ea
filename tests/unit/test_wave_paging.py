"""WaveFilterPager on canned responses: it re-filters instead of turning offset pages."""
from shopwave.wave.paging import WaveFilterPager
from shopwave.flows.customers import CUSTOMER


class CannedWave:
    """Answers list queries from a fixed list sorted by (modifiedAt, id); `>` filter semantics."""

    def __init__(self, records, *, inclusive=False, to_the_second=False):
        self.records = sorted(records, key=lambda r: (r["modifiedAt"], r["id"]))
        self.asked = []
        self.inclusive, self.to_the_second = inclusive, to_the_second  # Wave's undocumented answers

    def query(self, document, variables):
        # the argument is in the document exactly when its variable is sent, and never as null
        assert ("$modifiedAtAfter" in document) == ("modifiedAtAfter" in variables)
        assert variables.get("modifiedAtAfter", "absent") is not None
        self.asked.append((variables.get("modifiedAtAfter"), variables["page"]))
        after = variables.get("modifiedAtAfter")
        if after is not None and self.to_the_second:
            after = after[:19] + ".000Z"  # the bound cut to its second
        rows = [r for r in self.records
                if after is None or r["modifiedAt"] > after or (self.inclusive and r["modifiedAt"] == after)]
        size, page = variables["pageSize"], variables["page"]
        chunk = rows[(page - 1) * size: page * size]
        return {"business": {"customers": {"pageInfo": {"currentPage": page}, "edges": [{"node": r} for r in chunk]}}}


def rec(i, ms):
    return {"id": f"w{i}", "modifiedAt": f"2026-11-25T10:00:00.{ms:03d}Z"}


def test_given_records_at_distinct_instants_when_paging_then_each_page_refilters_from_page_one():
    wave = CannedWave([rec(i, i * 10) for i in range(5)])
    pages = list(WaveFilterPager(wave, CUSTOMER.wave, 2).pages(None))
    seen = [r["id"] for page in pages for r in page]
    assert set(seen) == {f"w{i}" for i in range(5)}
    assert all(page == 1 for _, page in wave.asked)


def test_given_a_full_page_sharing_one_instant_when_paging_then_it_turns_the_page_instead_of_looping():
    wave = CannedWave([rec(i, 500) for i in range(5)] + [rec(9, 900)])
    seen = {r["id"] for page in WaveFilterPager(wave, CUSTOMER.wave, 2).pages(None) for r in page}
    assert seen == {"w0", "w1", "w2", "w3", "w4", "w9"}
    assert len(wave.asked) < 10


def test_given_a_record_modified_between_page_reads_when_paging_then_it_is_still_read():
    records = [rec(i, i * 10) for i in range(6)]
    wave = CannedWave(records)
    pager = WaveFilterPager(wave, CUSTOMER.wave, 2).pages(None)
    first = next(pager)
    # w1 moves to the end while the reader is between pages; offset paging would skip w2.
    records[1]["modifiedAt"] = "2026-11-25T10:00:01.000Z"
    wave.records = sorted(records, key=lambda r: (r["modifiedAt"], r["id"]))
    rest = [r["id"] for page in pager for r in page]
    assert {r["id"] for r in first} | set(rest) == {f"w{i}" for i in range(6)}
    assert "w1" in rest


def test_given_no_watermark_when_the_first_page_is_asked_for_then_the_document_has_no_modified_at_after_at_all():
    wave = CannedWave([rec(i, i * 10) for i in range(3)])
    list(WaveFilterPager(wave, CUSTOMER.wave, 2).pages(None))
    assert wave.asked[0] == (None, 1)  # the first request: no filter (and CannedWave checked it was not sent as null)
    assert wave.asked[1][0] is not None  # then the cursor of the page before


def at_second(i, second):
    return {"id": f"w{i}", "modifiedAt": f"2026-11-25T10:00:{second:02d}.000Z"}


def test_given_whole_seconds_and_an_inclusive_bound_cut_to_the_second_when_paging_then_the_bound_never_goes_back_and_every_record_comes():
    # The bound just before a full page's last stamp is cut back to the second before: asking again
    # after it would answer the same page (or an older one) for ever; the pager turns the page instead.
    records = [at_second(i, 4) for i in range(3)] + [at_second(i, 5) for i in range(3, 7)] + [at_second(9, 6)]
    wave = CannedWave(records, inclusive=True, to_the_second=True)

    seen = [r["id"] for page in WaveFilterPager(wave, CUSTOMER.wave, 2).pages("2026-11-25T10:00:04.000Z") for r in page]

    assert set(seen) == {r["id"] for r in records}
    bounds = [after for after, _ in wave.asked]
    assert bounds == sorted(bounds) and len(wave.asked) < 12
    assert len(set(wave.asked)) == len(wave.asked)  # no request repeated in place
