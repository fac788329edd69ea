"""Order lines as Wave items: discounts folded into unit prices without losing a cent."""
from decimal import ROUND_HALF_UP, Decimal

import pytest

from shopwave.flows.orders import net_unit_price

CENT = Decimal("0.01")


def shop_line(quantity, price, discount, rate):
    amount = (quantity * price).quantize(CENT, ROUND_HALF_UP) - discount
    return amount, ((quantity * price - discount) * rate).quantize(CENT, ROUND_HALF_UP)


def wave_item(quantity, unit, rate):
    gross = quantity * unit
    return gross.quantize(CENT, ROUND_HALF_UP), (gross * rate).quantize(CENT, ROUND_HALF_UP)


@pytest.mark.parametrize("quantity, price, discount, rate", [
    ("3", "10.00", "0.50", "0.13"),  # 29.50 x 0.13 = 3.835: a half-up-rounded unit price loses the cent
    ("12", "9.50", "5.70", "0.13"),
    ("7", "3.33", "1.00", "0.05"),
    ("1.5", "19.99", "0.01", "0.13"),
    ("3", "19.99", "2.00", "0.13"),
])
def test_given_a_discounted_line_when_folded_into_the_unit_price_then_wave_amount_and_tax_equal_the_shops(quantity, price, discount, rate):
    q, p, d, r = (Decimal(x) for x in (quantity, price, discount, rate))
    unit = net_unit_price(q, p, d, r)
    assert unit == unit.quantize(Decimal("0.00000001"))
    assert wave_item(q, unit, r) == shop_line(q, p, d, r)


def test_given_no_discount_when_folded_then_the_price_is_unchanged():
    assert net_unit_price(Decimal("3"), Decimal("19.99"), Decimal("0"), Decimal("0.13")) == Decimal("19.99")
