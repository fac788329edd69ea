"""Orders in the webshop, invoices in Wave (SYNC.md: Order / invoice)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from ..engine.declarations import (DuplicateKey, Entity, Record, ShopResource, WaveAdopt, WaveLookup, WaveRead, WaveResource,
                                   WaveWrite, WhenDeleted)
from ..mapping import SHOP, WAVE, Basis, Code, Codec, Field, Mapping, get_path, values
from ..wave import payments

ORDER_DISCOUNT = "Order discount"
APPROVE = "invoiceApprove"  # asked for by INVOICE_APPROVE, and before a payment on a draft
CENT = Decimal("0.01")
EIGHT = Decimal("0.00000001")


class Reference(Codec):
    """A reference to a linked record, compared as the webshop's id."""

    def __init__(self, entity: str, shop: str, wave: str, wave_input: str):
        self.entity, self.shop, self.wave, self.wave_input = entity, shop, wave, wave_input

    def read(self, side, record, state, ctx, basis=None):
        raw = get_path(record, self.shop if side == SHOP else self.wave)
        return ctx.canonical_id(self.entity, side, raw)

    def write(self, side, current, state, ctx):
        return {(self.shop if side == SHOP else self.wave_input): ctx.side_id(self.entity, side, state[self.entity])}

    def refs(self, side, record, ctx=None):
        raw = get_path(record, self.shop if side == SHOP else self.wave)
        return [(self.entity, side, raw)] if raw else []


def days_after(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


class DueDate(Codec):
    """The order's due date, or the order date plus the configured payment terms."""

    def read(self, side, record, state, ctx, basis=None):
        if side == WAVE:
            return values.text(record.get("dueDate"))
        if record.get("due_date"):
            return record["due_date"]
        return days_after(record["order_date"], ctx.options.payment_terms_days) if record.get("order_date") else None

    def write(self, side, current, state, ctx):
        return {"due_date" if side == SHOP else "dueDate": state["due_date"]}


class Lines(Codec):
    """Order lines as invoice items. Wave has no line discount, so a line's discount is folded
    into its unit price (net of discount, to Wave's 8 places); the order-level discount is one
    more item on the discount product, so it is written with the items (`follows`). Taxes go by
    rate to the configured Wave sales tax; a zero or absent rate is no tax."""

    follows = ("order_discount",)

    def read(self, side, record, state, ctx, basis=None):
        if side == SHOP:
            lines = []
            for number, line in enumerate(record.get("lines") or [], start=1):
                try:
                    lines.append(self._shop_line(line))
                except values.BadValue as bad:
                    raise values.BadValue(f"line {number} {bad}") from None
            return lines
        discount_product = ctx.catalog.existing_discount_product_id() if _has_discount(record) else None
        lines = []
        for item in record.get("items") or []:
            if _is_order_discount(item, discount_product):
                continue
            taxes = item.get("taxes") or []
            lines.append({
                "product": ctx.canonical_id("product", WAVE, item["product"]["id"]),
                "description": values.text(item.get("description")),
                "quantity": values.decimal(item["quantity"]),
                "unit_price": values.decimal(item["unitPrice"]),
                "tax_rate": _taxed(ctx.catalog.rate_for_tax(taxes[0]["salesTax"]["id"], taxes[0]["salesTax"].get("rate"))) if taxes else None,
            })
        return lines

    @staticmethod
    def _shop_line(line) -> dict:
        quantity = Decimal(values.field_decimal("quantity", line.get("quantity"), minimum=Decimal("0.00000001")) or "0")
        price = Decimal(values.field_decimal("unit_price", line.get("unit_price"), minimum=Decimal(0)) or "0")
        discount = Decimal(values.field_decimal("discount", line.get("discount"), minimum=Decimal(0)) or "0")
        rate = _taxed(values.field_decimal("tax_rate", line.get("tax_rate"), minimum=Decimal(0)))
        net = net_unit_price(quantity, price, discount, Decimal(rate) if rate else None)
        return {"product": line.get("product_id"), "description": values.text(line.get("description")),
                "quantity": values.decimal(quantity), "unit_price": values.decimal(net), "tax_rate": rate}

    def write(self, side, current, state, ctx):
        lines = state["lines"]
        if side == SHOP:
            previous = (current or {}).get("lines") or []
            return {"lines": [self._to_shop_line(line, previous[i] if i < len(previous) else None)
                              for i, line in enumerate(lines)]}
        # a line without a description is "" (wave/clears.py: text clears without a null; left out,
        # Wave would fill in the product's description)
        items = [{"productId": ctx.side_id("product", WAVE, line["product"]), "description": line["description"] or "",
                  "quantity": line["quantity"], "unitPrice": line["unit_price"],
                  "taxes": [{"salesTaxId": ctx.catalog.tax_id_for_rate(line["tax_rate"])}] if line["tax_rate"] else []}
                 for line in lines]
        discount = Decimal(state.get("order_discount") or 0)
        if discount:
            items.append({"productId": ctx.catalog.discount_product_id(), "description": ORDER_DISCOUNT,
                          "quantity": "1", "unitPrice": str(-discount), "taxes": []})
        return {"items": items}

    @staticmethod
    def _to_shop_line(line, previous: dict | None = None) -> dict:
        """A price in cents and a discount that the shop reads back as the same Wave unit price:
        the shop line's own price and discount where they still give it (a Wave edit of another
        line leaves this one as the merchant wrote it), else the nearest cents."""
        quantity, unit = Decimal(line["quantity"]), Decimal(line["unit_price"])
        rate = Decimal(line["tax_rate"]) if line["tax_rate"] else None
        amount = (quantity * unit).quantize(CENT, ROUND_HALF_UP)
        same = previous is not None and previous.get("product_id") == line["product"]
        candidates = [(Decimal(previous["unit_price"]), Decimal(previous.get("discount") or 0))] if same else []
        candidates.append((unit.quantize(CENT, ROUND_HALF_UP), Decimal(0)))
        for rounding in (ROUND_CEILING, ROUND_HALF_UP):
            price = unit.quantize(CENT, rounding)
            candidates.append((price, (quantity * price).quantize(CENT, ROUND_HALF_UP) - amount))
        price, discount = next(((p, d) for p, d in candidates if d >= 0 and net_unit_price(quantity, p, d, rate) == unit),
                               candidates[-2])
        return {**({"id": previous["id"]} if same and previous.get("id") else {}),
                "product_id": line["product"], "description": line["description"], "quantity": line["quantity"],
                "unit_price": str(price), "discount": str(discount), "tax_rate": line["tax_rate"]}

    def refs(self, side, record, ctx=None):
        if side == SHOP:
            return [("product", SHOP, line["product_id"]) for line in record.get("lines") or [] if line.get("product_id")]
        # the order discount's item is on the discount product, which no shop product stands for
        discount_product = ctx.catalog.existing_discount_product_id() if ctx is not None and _has_discount(record) else None
        return [("product", WAVE, item["product"]["id"]) for item in record.get("items") or []
                if not _is_order_discount(item, discount_product)]


def net_unit_price(quantity: Decimal, price: Decimal, discount: Decimal, rate: Decimal | None) -> Decimal:
    """The unit price Wave gets for a line: Wave has no line discount and rounds an item's
    amount and tax to the cent from quantity x unit price, while the shop rounds the gross to
    the cent, takes the discount off and taxes that. So pick an 8-place unit price whose
    product with the quantity lands where both of Wave's roundings give the shop's cents: the
    shop's own price where it already does."""
    amount = (quantity * price).quantize(CENT, ROUND_HALF_UP) - discount
    tax = (amount * rate).quantize(CENT, ROUND_HALF_UP) if rate else None

    def fits(unit: Decimal) -> bool:
        gross = quantity * unit
        return gross.quantize(CENT, ROUND_HALF_UP) == amount and (
            tax is None or (gross * rate).quantize(CENT, ROUND_HALF_UP) == tax)

    if not discount and fits(price):
        return price
    half = CENT / 2
    low, high = amount - half, amount + half  # Wave's amount rounds to ours in [low, high)
    if tax is not None and rate > 0:
        low, high = max(low, (tax - half) / rate), min(high, (tax + half) / rate)
    if low < high:
        for target in ((low + high) / 2, low + (high - low) / 4, high - (high - low) / 4):
            for rounding in (ROUND_HALF_UP, ROUND_FLOOR, ROUND_CEILING):
                unit = (target / quantity).quantize(EIGHT, rounding)
                if fits(unit):
                    return unit
    return (amount / quantity).quantize(EIGHT, ROUND_HALF_UP)  # nothing fits: the total check reports it


def _taxed(rate: str | None) -> str | None:
    """A line's tax rate as canonical: zero or absent is no tax (a shop answers "0" for an untaxed line)."""
    return rate if rate and Decimal(rate) != 0 else None


def _has_discount(record) -> bool:
    return any(item.get("description") == ORDER_DISCOUNT for item in record.get("items") or [])


def _is_order_discount(item, discount_product: str | None) -> bool:
    return item["product"]["id"] == discount_product and item.get("description") == ORDER_DISCOUNT


class OrderDiscount(Codec):
    """The order-level discount (applied after tax). CONTRACT.md has no field for it: the shop
    shows it only as the part of `discount_total` beyond the lines' own discounts, so it travels
    from the shop to Wave only (as an item on the discount product, written with the lines). A
    discount changed in Wave stays there and the totals check reports the difference."""

    def read(self, side, record, state, ctx, basis=None):
        if side == SHOP:
            lines = sum((Decimal(values.field_decimal("discount", line.get("discount"), minimum=Decimal(0)) or "0")
                         for line in record.get("lines") or []), Decimal(0))
            total = Decimal(values.field_decimal("discount_total", record.get("discount_total"), minimum=Decimal(0)) or "0")
            if total < lines:
                raise values.BadValue(f"order_discount: discount_total {record.get('discount_total')} is less "
                                      f"than the lines' discounts {lines}")
            return values.decimal(total - lines) or "0"
        discount_product = ctx.catalog.existing_discount_product_id() if _has_discount(record) else None
        amount = sum((Decimal(item["unitPrice"]) * Decimal(item["quantity"])
                      for item in record.get("items") or [] if _is_order_discount(item, discount_product)), Decimal(0))
        return values.decimal(-amount) or "0"

    def write(self, side, current, state, ctx):
        return {}  # Wave: an item, written by Lines (which follows this field); never written to the shop


def _amount_paid(order: Record) -> Decimal:
    return Decimal(values.field_decimal("amount_paid", order.get("amount_paid"), minimum=Decimal(0)) or "0")


def _own(order: Record, basis: Basis | None) -> Decimal:
    """What the shop took itself: its amount paid less what came from Wave; nothing once it
    refunded the order (money paid in Wave was not the shop's to refund)."""
    if order.get("payment_status") == "refunded":
        return Decimal(0)
    return _amount_paid(order) - _from_wave(order, basis)


def _from_wave(order: Record, basis: Basis | None) -> Decimal:
    """The money paid in Wave that the shop's amount paid already holds: what the pair last agreed,
    or what a write of it announced if the shop shows that write landed (its writer died before
    saving the link). A link made before payments travelled both ways held all of it as `payment`."""
    if basis is None or not basis.linked:
        return Decimal(0)
    agreed = basis.agreed
    written = (basis.pending or {}).get("written") or {}
    if written.get("amount_paid") is not None and values.decimal(written["amount_paid"]) == values.decimal(order.get("amount_paid")):
        agreed = basis.pending["agreed"]
    if "paid_in_wave" not in agreed and agreed.get("payment"):
        return Decimal(agreed["payment"].get("amount_paid") or "0")
    return Decimal(agreed.get("paid_in_wave") or "0")


def shop_payment(current: Record | None, state: Record, basis: Basis | None) -> Record:
    """The shop's amount paid holds both sides' money: what the shop took (its own, unless the
    source changed it) plus what was paid in Wave. Its status follows from the amount."""
    own = Decimal(state["paid_in_shop"])
    if current is not None and basis is not None and basis.linked and state["paid_in_shop"] == basis.agreed.get("paid_in_shop"):
        own = _own(current, basis)  # unchanged at the source: the shop's own stays
    amount = own + Decimal(state["paid_in_wave"])
    total = Decimal(str((current or {}).get("total") or "0"))
    if own == 0 and (current or {}).get("payment_status") == "refunded":
        status = "refunded"  # the shop refunded its part; what is paid now was paid in Wave
    elif amount > 0:
        status = "paid" if amount >= total else "partially_paid"
    else:
        status = "unpaid"
    return {"payment_status": status, "amount_paid": str(amount.quantize(CENT))}


class PaidInShop(Codec):
    """The money the webshop took for the order itself, refunds taken off (SYNC.md: payments).
    In the shop: its amount paid less what came from Wave; in Wave: the payments the sync recorded
    (wave/payments.py finds them by their memo's marker). Written to Wave as the `@payments`
    action, which records or removes only the sync's own payments; to the shop as amount paid."""

    writes_against_basis = frozenset({SHOP})
    announced_to = frozenset({SHOP, WAVE})  # an amount holding both systems' money; a payment

    def read(self, side, record, state, ctx, basis=None):
        if side == WAVE:
            return values.decimal(payments.split(record)[0]) or "0"
        return values.decimal(_own(record, basis)) or "0"

    def write(self, side, current, state, ctx, basis=None):
        if side == SHOP:
            return shop_payment(current, state, basis)
        options = ctx.options
        return {"@payments": payments.PaymentTarget(
            number=state.get("number"), total=Decimal(state["paid_in_shop"]),
            first_date=state.get("order_date") or date.today().isoformat(), later_date=date.today().isoformat(),
            account_id=ctx.catalog.payment_account_id(), method=options.payment_method)}


class PaidInWave(Codec):
    """Money paid in Wave (a cheque the merchant records, Wave Payments): every payment on the
    invoice that the sync did not record. It travels into the shop only, as part of its amount paid."""

    writes_against_basis = announced_to = frozenset({SHOP})

    def read(self, side, record, state, ctx, basis=None):
        if side == WAVE:
            return values.decimal(payments.split(record)[1]) or "0"
        return values.decimal(_from_wave(record, basis)) or "0"

    def write(self, side, current, state, ctx, basis=None):
        return shop_payment(current, state, basis) if side == SHOP else {}


class NativeDiscount(Codec):
    """Wave's own invoice discount (`discounts` / `discountTotal`), which a merchant can add or
    change in Wave's screens. The sync never writes one (the order discount is an item: SYNC.md)
    and the contract has no field the shop could take it in, so it travels nowhere: reading it
    makes a change in Wave a change of the pair, and the totals check then records the conflict
    for an operator instead of a silent mismatch. The shop holds what the pair last agreed."""

    def read(self, side, record, state, ctx, basis=None):
        if side == WAVE:
            return values.decimal(get_path(record, "discountTotal.value")) or "0"
        return (basis.agreed.get("wave_discount") if basis is not None and basis.linked else None) or "0"

    def write(self, side, current, state, ctx):
        return {}


class CreateOnly(Codec):
    """Set on the invoice the sync creates (title, status): Wave-only, never compared."""

    def read(self, side, record, state, ctx, basis=None):
        return None

    def write(self, side, current, state, ctx):
        if side == SHOP:
            return {}
        options = ctx.options  # config.Options: INVOICE_STATUS is DRAFT or SAVED, checked when read
        return {"title": options.invoice_title.format(number=state.get("number") or ""),
                "status": options.invoice_status,
                **({"@approve": True} if options.invoice_approve else {})}


ORDER_MAPPING = Mapping((
    Field("customer", codec=Reference("customer", shop="customer_id", wave="customer.id", wave_input="customerId")),
    Field("number", shop="number", wave="invoiceNumber"),
    Field("po_number", shop="po_number", wave="poNumber"),
    Field("order_date", shop="order_date", wave="invoiceDate"),
    Field("due_date", codec=DueDate()),
    Field("currency", shop="currency", wave="currency.code", wave_input="currency", value=Code()),
    Field("note", shop="note", wave="memo"),
    Field("lines", codec=Lines()),
    Field("order_discount", codec=OrderDiscount(), only_to=WAVE),
    Field("paid_in_shop", codec=PaidInShop()),
    Field("paid_in_wave", codec=PaidInWave(), only_to=SHOP),
    Field("wave_discount", codec=NativeDiscount(), only_to=SHOP),
    Field("invoice", codec=CreateOnly(), create_only=True),
))


def totals_agree(records: dict) -> str | None:
    """The invoice total must equal the order total to the cent."""
    order, invoice = records[SHOP], records[WAVE]
    shop_total, wave_total = values.decimal(order.get("total")), values.decimal(get_path(invoice, "total.value"))
    if shop_total != wave_total:
        native = values.decimal(get_path(invoice, "discountTotal.value"))
        because = (f"; the invoice has Wave's own discount of {get_path(invoice, 'discountTotal.value')}, which the "
                   f"webshop has no field for" if native and Decimal(native) else "")
        return f"order total {order.get('total')} but invoice total {get_path(invoice, 'total.value')}{because}"
    return None


def payments_settled(records: dict) -> str | None:
    """Once both flows have run, both sides show the same amount paid (a refunded order: only what
    was paid in Wave), and the sync's own payments in Wave never exceed what the shop took."""
    order, invoice = records[SHOP], records[WAVE]
    mine, others = payments.split(invoice)
    refunded = order.get("payment_status") == "refunded"
    shop_paid = Decimal(0) if refunded else _amount_paid(order)
    if mine > shop_paid:
        return (f"the sync's payments in Wave come to {mine.quantize(CENT)} but the shop took {shop_paid.quantize(CENT)}: "
                f"a payment recorded twice, or a refund not applied")
    if not refunded and shop_paid != mine + others:
        return f"amount paid {shop_paid.quantize(CENT)} in the shop but {(mine + others).quantize(CENT)} in Wave"
    return None


def cancelled(order: dict) -> bool:
    return bool(order.get("deleted")) or order.get("status") == "cancelled"


_DISCOUNTS = ("discounts { name ... on FixedInvoiceDiscount { amount } ... on PercentageInvoiceDiscount { percentage } } "
              "discountTotal { value }")  # Wave's own discount, which a merchant may add (NativeDiscount)
_ITEMS = ("items { product { id } description quantity unitPrice "
          "taxes { salesTax { id rate } amount { value } } total { value } }")  # InvoiceItemTax.rate is deprecated

ORDER = Entity(
    name="order",
    mapping=ORDER_MAPPING,
    shop=ShopResource("orders", deleted=cancelled),
    wave=WaveResource(
        "Invoice",
        read=WaveRead(
            list_field="invoices",
            get_field="invoice",
            selection=(f"id invoiceNumber invoiceDate dueDate status title poNumber memo customer {{ id }} "
                       f"currency {{ code }} {_ITEMS} taxTotal {{ value }} total {{ value }} amountPaid {{ value }} "
                       f"amountDue {{ value }} payments {{ {payments.PAYMENT_SELECTION} }} {_DISCOUNTS} createdAt modifiedAt"),
        ),
        write=WaveWrite(
            create="invoiceCreate",
            patch="invoicePatch",
            output="invoice",
            actions={"@approve": APPROVE, "@payments": payments.SettlePayments(approve=APPROVE)},
            delete="invoiceDelete",
            deletable=lambda invoice: invoice.get("status") in ("DRAFT", "SAVED"),
            id_input="invoiceId",
        ),
        adopt=WaveAdopt(lookups=(WaveLookup("number", "invoiceNumber"),)),
    ),
    creates_in=frozenset({WAVE}),
    when_deleted={SHOP: WhenDeleted.DELETE_DRAFT_COUNTERPART},
    verify=totals_agree,
    settled=payments_settled,
    still_travels=frozenset({"paid_in_shop", "paid_in_wave"}),  # money, after a cancellation too
    needs={WAVE: lambda ctx: ctx.catalog.payment_account_id()},
    duplicate_key=DuplicateKey("number"),
)
