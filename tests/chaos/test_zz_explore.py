# TEMPORARY exploration: the known engine bugs avoided, to look for others
import os
import pytest
from tests.chaos import runner, world
from tests.chaos.test_chaos import run_chaos


class Avoiding(world.World):
    def delete_customer(self):
        target = self._pick(self.customers, exclude=self.used)
        if target is None or self.process().store.get_link("customer", "shop", target) is not None:
            self.skipped += 1
            return
        self.stack.shop.delete("customers", target)
        self.gone.add(target)

    def cancel_order(self):
        self.skipped += 1

    def create_order(self):
        create = self.stack.shop.create
        def no_discount(resource, data):
            for line in data.get("lines", []):
                line.pop("discount", None)
            return create(resource, data)
        self.stack.shop.create = no_discount
        try:
            super().create_order()
        finally:
            self.stack.shop.create = create


def test_explore(chaos_stack, monkeypatch):
    monkeypatch.setattr(runner, "World", Avoiding)
    run_chaos(chaos_stack, int(os.environ["CHAOS_SEED"]), int(os.environ.get("CHAOS_OPS", 500)))
