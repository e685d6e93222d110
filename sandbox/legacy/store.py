"""The legacy monolith's own tiny data store: SQLite, one connection behind a lock."""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import threading
from datetime import UTC, datetime
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (username TEXT PRIMARY KEY, password_sha256 TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (token TEXT PRIMARY KEY, username TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS products (
    sku TEXT PRIMARY KEY, name TEXT NOT NULL, price INTEGER NOT NULL, stock INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT, customer TEXT NOT NULL, lines TEXT NOT NULL,
    total INTEGER NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL
);
"""
DEMO_USER = ("demo", "demo")
DEMO_PRODUCTS = 20


class OutOfStock(Exception):
    def __init__(self, skus: list[str]) -> None:
        super().__init__(", ".join(skus))
        self.skus = skus


class UnknownSku(Exception):
    pass


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _digest(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


class Store:
    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock:
            self._db.executescript(SCHEMA)
            self._db.execute(
                "INSERT OR IGNORE INTO users VALUES (?, ?)", (DEMO_USER[0], _digest(DEMO_USER[1]))
            )
            for n in range(1, DEMO_PRODUCTS + 1):
                self._db.execute(
                    "INSERT OR IGNORE INTO products VALUES (?, ?, ?, ?, ?)",
                    (f"LEG-{n:04d}", f"Legacy product {n}", 990 + 100 * n, 10_000, _now()),
                )

    def login(self, username: str, password: str) -> str | None:
        """A new session token for good credentials, else None."""
        with self._lock:
            row = self._db.execute(
                "SELECT password_sha256 FROM users WHERE username = ?", (username,)
            ).fetchone()
            if row is None or not secrets.compare_digest(row[0], _digest(password)):
                return None
            token = secrets.token_urlsafe(24)
            self._db.execute("INSERT INTO sessions VALUES (?, ?)", (token, username))
            return token

    def session_user(self, token: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT username FROM sessions WHERE token = ?", (token,)
            ).fetchone()
        return None if row is None else str(row[0])

    def logout(self, token: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM sessions WHERE token = ?", (token,))

    def products(self, offset: int, limit: int) -> tuple[list[dict[str, Any]], bool]:
        """One page of products and whether more follow."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM products ORDER BY sku LIMIT ? OFFSET ?", (limit + 1, offset)
            ).fetchall()
        return [dict(row) for row in rows[:limit]], len(rows) > limit

    def order_place(self, customer: dict[str, Any], lines: list[dict[str, Any]]) -> dict[str, Any]:
        """Takes the stock and records the order, all or nothing."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                order = self._order_place_locked(customer, lines)
            except Exception:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return order

    def _order_place_locked(
        self, customer: dict[str, Any], lines: list[dict[str, Any]]
    ) -> dict[str, Any]:
        priced, short, total = [], [], 0
        for line in lines:
            row = self._db.execute(
                "SELECT price, stock FROM products WHERE sku = ?", (line["sku"],)
            ).fetchone()
            if row is None:
                raise UnknownSku(line["sku"])
            if row["stock"] < line["quantity"]:
                short.append(line["sku"])
            priced.append({**line, "unit_price": row["price"]})
            total += row["price"] * line["quantity"]
        if short:
            raise OutOfStock(short)
        for line in lines:
            self._db.execute(
                "UPDATE products SET stock = stock - ?, updated_at = ? WHERE sku = ?",
                (line["quantity"], _now(), line["sku"]),
            )
        cursor = self._db.execute(
            "INSERT INTO orders (customer, lines, total, status, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (json.dumps(customer), json.dumps(priced), total, "placed", _now()),
        )
        order = self.order_get(int(cursor.lastrowid or 0), locked=True)
        assert order is not None
        return order

    def order_get(self, order_id: int, *, locked: bool = False) -> dict[str, Any] | None:
        if not locked:
            with self._lock:
                return self.order_get(order_id, locked=True)
        row = self._db.execute("SELECT * FROM orders WHERE id = ?", (order_id,)).fetchone()
        if row is None:
            return None
        return {
            "id": row["id"],
            "number": f"LEG-{row['id']:06d}",
            "status": row["status"],
            "total": row["total"],
            "currency": "BRL",
            "lines": json.loads(row["lines"]),
            "created_at": row["created_at"],
        }
