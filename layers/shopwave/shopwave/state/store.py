"""The state store: the engine's only way to DynamoDB."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from pynamodb.exceptions import DeleteError, PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from .models import LinkItem, StateItem

CONFLICT_RETENTION = timedelta(days=180)
GAVE_UP = "9999-12-31T00:00:00.000000Z"  # parked for good: no more automatic retries


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LinkRaced(Exception):
    """Another writer created or changed this link first; re-read and decide again."""


@dataclass
class Link:
    entity: str
    shop_id: str
    wave_id: str
    state: dict[str, Any]
    state_hash: str
    shop_seen: str | None = None
    wave_seen: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    status: str = "active"
    revision: int = 0  # 0: not stored yet

    @classmethod
    def between(cls, entity: str, ids: dict[str, str]) -> "Link":
        """A new link of two records, by side."""
        return cls(entity=entity, shop_id=ids["shop"], wave_id=ids["wave"], state={}, state_hash="")

    def id_on(self, side: str) -> str:
        return self.shop_id if side == "shop" else self.wave_id

    def set_id(self, side: str, record_id: str) -> None:
        if side == "shop":
            self.shop_id = record_id
        else:
            self.wave_id = record_id

    def seen_on(self, side: str) -> str | None:
        """The last timestamp of that side's record the sync handled."""
        return self.shop_seen if side == "shop" else self.wave_seen

    def set_seen(self, side: str, stamp: str | None) -> None:
        if side == "shop":
            self.shop_seen = stamp
        else:
            self.wave_seen = stamp

    def anchor(self) -> tuple[str, str]:
        """The key a pair is claimed, and its conflicts recorded, under: its webshop record."""
        return "shop", self.shop_id


@dataclass
class Watermark:
    """Where a flow's reading stopped: the last timestamp handled and the ids handled at it, and
    when (our clock) the read that got there began: a side whose stamps may be late re-reads from
    that moment less its window (Engine.reread_from)."""
    ts: str | None = None
    ids: list[str] = field(default_factory=list)
    read_at: str | None = None

    def passed(self, ts: str, record_id: str) -> bool:
        return self.ts is not None and (ts < self.ts or (ts == self.ts and record_id in self.ids))

    def advance(self, ts: str, record_id: str) -> None:
        if self.ts is None or ts > self.ts:
            self.ts, self.ids = ts, [record_id]
        elif ts == self.ts and record_id not in self.ids:
            self.ids.append(record_id)


@dataclass
class Parked:
    flow: str
    source_id: str
    reason: str
    attempts: int
    due_at: str
    kind: str = "error"


def link_key(entity: str, side: str, record_id: str) -> str:
    return f"{entity}#{side}#{record_id}"


class StateStore:
    def __init__(self, *, park_backoff: timedelta = timedelta(minutes=1), park_backoff_max: timedelta = timedelta(hours=6),
                 park_max_attempts: int = 10):
        self.park_backoff = park_backoff
        self.park_backoff_max = park_backoff_max
        self.park_max_attempts = park_max_attempts
        self.reads = 0
        self.writes = 0

    # links -------------------------------------------------------------------------------
    def get_links(self, entity: str, side: str, ids: Iterable[str]) -> dict[str, Link]:
        keys = sorted({link_key(entity, side, i) for i in ids})
        found: dict[str, Link] = {}
        for start in range(0, len(keys), 100):
            self.reads += 1
            for item in LinkItem.batch_get(keys[start:start + 100], consistent_read=True):
                link = _link_from(item)
                found[link.id_on(side)] = link
        return found

    def get_link(self, entity: str, side: str, record_id: str) -> Link | None:
        return self.get_links(entity, side, [record_id]).get(record_id)

    def save_link(self, link: Link, *, replaces: tuple[str, str] | None = None) -> None:
        """Write both keys at once, conditional on the revision read and on each key naming this
        link's shop record, so writers cannot interleave or take over another link's key.
        `replaces`: (side, id) of a counterpart that was replaced; its old key goes in the same write."""
        expected = link.revision
        new = expected == 0
        self.writes += 1
        try:
            # the model's own connection: a new one per write would build a botocore client each time
            with TransactWrite(connection=LinkItem._get_connection().connection) as tx:
                for side in ("shop", "wave"):
                    item = _item_from(link, link_key(link.entity, side, link.id_on(side)), expected + 1)
                    fresh_key = new or (replaces is not None and side == replaces[0])
                    condition = (LinkItem.pk.does_not_exist() if fresh_key
                                 else (LinkItem.revision == expected) & (LinkItem.shop_id == link.shop_id))
                    tx.save(item, condition=condition)
                if replaces is not None:
                    tx.delete(LinkItem(pk=link_key(link.entity, *replaces)), condition=LinkItem.shop_id == link.shop_id)
        except TransactWriteError as exc:
            raise LinkRaced(f"link {link.entity}/{link.shop_id} changed underneath") from exc
        link.revision = expected + 1

    def all_links(self, entity: str | None = None) -> Iterable[Link]:
        """Every link once (the shop-keyed copy); for operators and the convergence checker."""
        condition = LinkItem.pk.contains("#shop#")
        if entity:
            condition &= LinkItem.entity == entity
        for item in LinkItem.scan(condition):
            yield _link_from(item)

    # watermarks --------------------------------------------------------------------------
    def watermark(self, flow: str) -> Watermark:
        self.reads += 1
        try:
            item = StateItem.get("watermark", flow, consistent_read=True)
        except StateItem.DoesNotExist:
            return Watermark()
        return Watermark(**json.loads(item.data))

    def save_watermark(self, flow: str, mark: Watermark) -> None:
        self.writes += 1
        StateItem(pk="watermark", sk=flow, data=json.dumps({"ts": mark.ts, "ids": mark.ids, "read_at": mark.read_at})).save()

    # parked records ----------------------------------------------------------------------
    def park(self, flow: str, source_id: str, reason: str, *, kind: str = "error") -> Parked:
        previous = self.parked_one(flow, source_id)
        attempts = (previous.attempts if previous else 0) + 1
        delay = min(self.park_backoff * (2 ** (attempts - 1)), self.park_backoff_max)
        due = _iso(_now() + delay) if attempts < self.park_max_attempts else GAVE_UP  # an operator retries it
        parked = Parked(flow, source_id, reason, attempts, due, kind)
        self.writes += 1
        StateItem(pk=f"parked#{flow}", sk=source_id, attempts=attempts, due_at=parked.due_at,
                  data=json.dumps({"reason": reason, "kind": kind})).save()
        return parked

    def unpark(self, flow: str, source_id: str) -> None:
        self.writes += 1
        StateItem(pk=f"parked#{flow}", sk=source_id).delete()

    def parked_one(self, flow: str, source_id: str) -> Parked | None:
        self.reads += 1
        try:
            return _parked_from(flow, StateItem.get(f"parked#{flow}", source_id, consistent_read=True))
        except StateItem.DoesNotExist:
            return None

    def parked(self, flow: str, *, due_only: bool = False) -> list[Parked]:
        self.reads += 1
        condition = StateItem.due_at <= _iso(_now()) if due_only else None
        return [_parked_from(flow, item) for item in StateItem.query(f"parked#{flow}", filter_condition=condition)]

    # conflicts ---------------------------------------------------------------------------
    def record_conflict(self, entity: str, shop_id: str, field_name: str, detail: dict[str, Any]) -> None:
        moment = _now()
        self.writes += 1
        StateItem(pk=f"conflict#{entity}", sk=f"{_iso(moment)}#{shop_id}#{field_name}",
                  data=json.dumps({"shop_id": shop_id, "field": field_name, **detail}, default=str),
                  expires_at=moment + CONFLICT_RETENTION).save()

    def conflicts(self, entity: str) -> list[dict[str, Any]]:
        self.reads += 1
        return [{"at": item.sk.split("#")[0], **json.loads(item.data)} for item in StateItem.query(f"conflict#{entity}")]

    # claims ------------------------------------------------------------------------------
    def claim(self, key: str, owner: str, lease: timedelta) -> bool:
        """Take the right to write one record; a lease left by a crashed writer expires."""
        now = _now()
        self.writes += 1
        try:
            StateItem(pk=f"claim#{key}", sk="-", owner=owner, expires_at=now + lease).save(
                condition=StateItem.pk.does_not_exist() | (StateItem.expires_at < now))
            return True
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise

    def release(self, key: str, owner: str) -> None:
        self.writes += 1
        try:
            StateItem(pk=f"claim#{key}", sk="-").delete(condition=StateItem.owner == owner)
        except DeleteError:
            pass  # the lease expired and another writer holds it now: not ours to delete


def _link_from(item: LinkItem) -> Link:
    return Link(entity=item.entity, shop_id=item.shop_id, wave_id=item.wave_id, state=json.loads(item.state),
                state_hash=item.state_hash, shop_seen=item.shop_seen, wave_seen=item.wave_seen,
                extra=json.loads(item.extra) if item.extra else {}, status=item.status, revision=int(item.revision))


def _item_from(link: Link, pk: str, revision: int) -> LinkItem:
    return LinkItem(pk=pk, entity=link.entity, shop_id=link.shop_id, wave_id=link.wave_id,
                    state=json.dumps(link.state, sort_keys=True, ensure_ascii=False), state_hash=link.state_hash,
                    shop_seen=link.shop_seen, wave_seen=link.wave_seen,
                    extra=json.dumps(link.extra, sort_keys=True) if link.extra else None,
                    status=link.status, revision=revision)


def _parked_from(flow: str, item: StateItem) -> Parked:
    data = json.loads(item.data or "{}")
    return Parked(flow, item.sk, data.get("reason", ""), int(item.attempts or 0), item.due_at or "", data.get("kind", "error"))
