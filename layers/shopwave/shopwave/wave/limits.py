"""What Wave allows a request to ask for (README "The live API in 2026": page size default about
45-50, reported maximum 200). A module of its own, without imports, so config.py can bound
SYNC_PAGE_SIZE by it."""

WAVE_MAX_PAGE_SIZE = 200  # records per page of any Wave list; more may be refused or cut short
