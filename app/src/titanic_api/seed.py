"""Idempotent loading of the packaged Titanic CSV.

Every CSV row gets a stable natural key (``titanic.csv:<row number>``) and a deterministic uuid
derived from it. ``seed_log`` remembers every key ever loaded; a run only inserts rows whose key
is not in it, so running the seed again adds no one, does not revert changes made through the
API, and does not bring back passengers deleted through the API.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from importlib import resources

from psycopg2.extras import execute_values

from .models import row_document

SEED_NAMESPACE = uuid.UUID("6f1c7c5e-3d4b-5a8e-9a43-7469746e6963")
SEED_LOCK_KEY = 0x7469_7461_6E69_6373
CSV_NAME = "titanic.csv"
EXPECTED_HEADER = [
    "Survived",
    "Pclass",
    "Name",
    "Sex",
    "Age",
    "Siblings/Spouses Aboard",
    "Parents/Children Aboard",
    "Fare",
]


@dataclass(frozen=True)
class SeedRow:
    seed_key: str
    uuid: uuid.UUID
    survived: bool
    passenger_class: int
    name: str
    sex: str
    age: float
    siblings_or_spouses_aboard: int
    parents_or_children_aboard: int
    fare: float


def read_csv_text() -> str:
    return resources.files("titanic_api").joinpath("data", CSV_NAME).read_text("utf-8")


def parse(text: str, source: str = CSV_NAME) -> list[SeedRow]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    if [h.strip() for h in header] != EXPECTED_HEADER:
        raise ValueError(f"{source}: unexpected header {header!r}")
    rows = []
    for number, record in enumerate(reader, start=1):
        if not record:
            continue
        survived, pclass, name, sex, age, sibsp, parch, fare = record
        key = f"{source}:{number}"
        rows.append(
            SeedRow(
                seed_key=key,
                uuid=uuid.uuid5(SEED_NAMESPACE, key),
                survived=survived.strip() == "1",
                passenger_class=int(pclass),
                name=name.strip(),
                sex=sex.strip(),
                age=float(age),
                siblings_or_spouses_aboard=int(sibsp),
                parents_or_children_aboard=int(parch),
                fare=float(fare),
            )
        )
    return rows


def _values(rows: list[SeedRow]) -> list[tuple[SeedRow, tuple]]:
    """Each row with its ``SELECT_COLUMNS`` values, in the types psycopg2 reads them back."""
    return [
        (
            r,
            (
                str(r.uuid),
                r.survived,
                r.passenger_class,
                r.name,
                r.sex,
                float(r.age),
                r.siblings_or_spouses_aboard,
                r.parents_or_children_aboard,
                float(r.fare),
            ),
        )
        for r in rows
    ]


def seed(conn, rows: list[SeedRow] | None = None) -> int:
    """Insert the rows never seeded before; return how many passengers were added."""
    if rows is None:
        rows = parse(read_csv_text())
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (SEED_LOCK_KEY,))
            cur.execute("SELECT seed_key FROM seed_log")
            seen = {r[0] for r in cur.fetchall()}
            new = [r for r in rows if r.seed_key not in seen]
            added = 0
            if new:
                inserted = execute_values(
                    cur,
                    """
                    INSERT INTO people (uuid, survived, passenger_class, name, sex, age,
                        siblings_or_spouses_aboard, parents_or_children_aboard, fare, seed_key,
                        doc)
                    VALUES %s
                    ON CONFLICT DO NOTHING
                    RETURNING uuid
                    """,
                    [(*values, r.seed_key, row_document(values)) for r, values in _values(new)],
                    page_size=1000,
                    fetch=True,
                )
                added = len(inserted)
                execute_values(
                    cur,
                    "INSERT INTO seed_log (seed_key) VALUES %s ON CONFLICT DO NOTHING",
                    [(r.seed_key,) for r in new],
                    page_size=1000,
                )
        conn.commit()
    except BaseException:
        if not conn.closed:
            conn.rollback()
        raise
    return added
