"""SQLite persistence: one table per resource, idempotency keys, the webhook outbox,
counters, and a clock whose ``updated_at`` values strictly increase across the DB."""

import json
import sqlite3
import threading
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from .schemas import CONTRACT_RESOURCES
from .values import TS_FORMAT, format_ts

SCHEMA = """
CREATE TABLE IF NOT EXISTS {t} (
    id TEXT PRIMARY KEY, data TEXT NOT NULL, created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL, version INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS {t}_feed ON {t} (updated_at, id);
"""
SHARED = """
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, status INTEGER NOT NULL,
    body TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, resource TEXT NOT NULL, event TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, last_status INTEGER);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class Store:
    def __init__(self, db_path, resources=CONTRACT_RESOURCES):
        self.lock = threading.RLock()
        self.resources = {resource.name: resource for resource in resources}
        self.db = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
        script = SHARED + "".join(SCHEMA.format(t=t) for t in self.resources)
        self.db.executescript(script)
        last = self._meta("last_ts")
        self._last_ts = datetime.strptime(last, TS_FORMAT).replace(tzinfo=timezone.utc) if last else None

    # -- plumbing ------------------------------------------------------------------------
    @contextmanager
    def transaction(self):
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def _meta(self, name, default=None):
        row = self.db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return row[0] if row else default

    def _set_meta(self, name, value):
        self.db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, str(value)))

    def next_ts(self):
        """Now, but always at least 1 microsecond after the previous write."""
        now = datetime.now(timezone.utc)
        if self._last_ts is not None and now <= self._last_ts:
            now = self._last_ts + timedelta(microseconds=1)
        self._last_ts = now
        self._set_meta("last_ts", format_ts(now))
        return format_ts(now)

    def close(self):
        with self.lock:
            self.db.close()

    # -- records -------------------------------------------------------------------------
    @staticmethod
    def _record(row):
        record_id, data, created_at, updated_at, version, deleted = row
        return {"id": record_id, **json.loads(data), "created_at": created_at,
                "updated_at": updated_at, "version": version, "deleted": bool(deleted)}

    def get(self, resource, record_id):
        row = self.db.execute(
            f"SELECT id, data, created_at, updated_at, version, deleted FROM {resource} WHERE id = ?",
            (record_id,)).fetchone()
        return self._record(row) if row else None

    def all(self, resource):
        rows = self.db.execute(
            f"SELECT id, data, created_at, updated_at, version, deleted FROM {resource} ORDER BY created_at, id")
        return [self._record(row) for row in rows]

    def feed(self, resource, updated_after=None, after=None, limit=50):
        """Rows ordered by (updated_at, id), strictly after the watermark and the cursor key."""
        sql = f"SELECT id, data, created_at, updated_at, version, deleted FROM {resource} WHERE 1=1"
        args = []
        if updated_after is not None:
            sql += " AND updated_at > ?"
            args.append(updated_after)
        if after is not None:
            sql += " AND (updated_at > ? OR (updated_at = ? AND id > ?))"
            args += [after[0], after[0], after[1]]
        sql += " ORDER BY updated_at, id LIMIT ?"
        args.append(limit)
        return [self._record(row) for row in self.db.execute(sql, args)]

    def find(self, resource, field, value):
        rows = self.db.execute(
            f"SELECT id, data, created_at, updated_at, version, deleted FROM {resource} "
            f"WHERE json_extract(data, '$.' || ?) = ?", (field, value))
        return [self._record(row) for row in rows]

    def _next_id(self, resource):
        spec = self.resources[resource]
        counter = int(self._meta(f"next_id:{resource}", spec.id_start))
        while self.get(resource, f"{spec.id_prefix}_{counter}"):
            counter += 1
        self._set_meta(f"next_id:{resource}", counter + 1)
        return f"{spec.id_prefix}_{counter}"

    def next_number(self, resource, field, start=1001):
        """The next free value of a field the shop numbers itself (an order's number)."""
        name = f"next_{self.resources[resource].noun}_{field}"  # "next_order_number"
        counter = int(self._meta(name, start))
        while self.find(resource, field, str(counter)):
            counter += 1
        self._set_meta(name, counter + 1)
        return str(counter)

    def insert(self, resource, fields, record_id=None):
        with self.transaction():
            record_id = record_id or self._next_id(resource)
            ts = self.next_ts()
            self.db.execute(
                f"INSERT INTO {resource} (id, data, created_at, updated_at, version, deleted) "
                "VALUES (?, ?, ?, ?, 1, 0)", (record_id, json.dumps(fields), ts, ts))
            self._queue(resource, "created", record_id, ts)
        return self.get(resource, record_id)

    def replace(self, resource, record_id, fields, deleted=False):
        with self.transaction():
            ts = self.next_ts()
            self.db.execute(
                f"UPDATE {resource} SET data = ?, updated_at = ?, version = version + 1, deleted = ? "
                "WHERE id = ?", (json.dumps(fields), ts, int(deleted), record_id))
            self._queue(resource, "deleted" if deleted else "updated", record_id, ts)
        return self.get(resource, record_id)

    # -- idempotency ---------------------------------------------------------------------
    def idempotent_result(self, key):
        row = self.db.execute("SELECT fingerprint, status, body FROM idempotency WHERE key = ?", (key,)).fetchone()
        return (row[0], row[1], json.loads(row[2])) if row else None

    def remember(self, key, fingerprint, status, body):
        with self.transaction():
            self.db.execute(
                "INSERT INTO idempotency (key, fingerprint, status, body, created_at) VALUES (?, ?, ?, ?, ?)",
                (key, fingerprint, status, json.dumps(body), format_ts(datetime.now(timezone.utc))))

    # -- webhook outbox ------------------------------------------------------------------
    def _queue(self, resource, action, record_id, ts):
        event = {"id": f"dlv_{uuid.uuid4().hex}", "type": f"{self.resources[resource].noun}.{action}",
                 "occurred_at": ts, "data": {"id": record_id, "updated_at": ts}}
        self.db.execute("INSERT INTO outbox (resource, event) VALUES (?, ?)", (resource, json.dumps(event)))

    def pending(self):
        """[(seq, resource, event)] in the order the changes happened."""
        with self.lock:
            rows = self.db.execute("SELECT seq, resource, event FROM outbox ORDER BY seq").fetchall()
        return [(seq, resource, json.loads(event)) for seq, resource, event in rows]

    def delivered(self, seq):
        with self.lock:
            self.db.execute("DELETE FROM outbox WHERE seq = ?", (seq,))

    def attempted(self, seq, status):
        with self.lock:
            self.db.execute("UPDATE outbox SET attempts = attempts + 1, last_status = ? WHERE seq = ?", (status, seq))
