"""A faithful local Wave GraphQL server ("Wave sandbox") for development and tests.

Beyond the 2021 snapshot it models the live API's payments (payments.py: invoicePaymentCreateManual
/ Patch / Delete into a CASH_AND_BANK account on an approved invoice; amountPaid, amountDue and
status through PARTIAL, PAID and OVERPAID and back; no deleting an invoice with payments) and its
native invoice discounts (discounts.py: one FIXED or PERCENTAGE discount, before tax). Wave does
not say how a discount is spread over lines taxed at different rates; the sandbox spreads it in
proportion to the lines' subtotals, each share rounded to the cent, the remainder on the largest
line, and taxes each line on its subtotal less its share.
"""
from .errors import InputErrors
from .schema import load_wave_schema
from .server import WaveSandbox

__all__ = ["InputErrors", "WaveSandbox", "load_wave_schema"]
