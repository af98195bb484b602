"""Planted truth: customers, every true money movement, every defect, and the run's manifest.

Written under ``truth_dir`` (never into landing): ``customers.parquet``, ``flows.parquet``,
``dirt.parquet`` and ``manifest.json``. Only tests and benchmarks read these.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .files import DIRT_SCHEMA, FileStats
from .frames import ANOMALY_TYPES, CATEGORIES, CURRENCIES, Frame
from .personas import PERSONAS
from .seasonality import UTC_OFFSET_SECONDS
from .textops import encode, take
from .world import World

FLOW_SCHEMA = pa.schema([
    ("source_table", pa.string()),
    ("source_record_id", pa.string()),
    ("customer_id", pa.string()),
    ("flow_ts", pa.timestamp("s", tz="Asia/Shanghai")),
    ("direction", pa.string()),
    ("amount", pa.float64()),
    ("currency", pa.string()),
    ("category", pa.string()),
    ("is_internal_transfer", pa.bool_()),
    ("matched_record_id", pa.string()),
    ("is_anomaly", pa.bool_()),
    ("anomaly_type", pa.string()),
    ("status", pa.string()),
])
_CATS = pa.array(CATEGORIES, pa.string())
_CURS = pa.array(CURRENCIES, pa.string())
_DIRS = pa.array(["out", "in"], pa.string())
_ANOM = pa.array(ANOMALY_TYPES, pa.string())


class TruthWriter:
    """Streams flows and dirt to Parquet month by month (bounded memory)."""

    def __init__(self, truth_dir: Path, world: World):
        truth_dir.mkdir(parents=True, exist_ok=True)
        self.dir = truth_dir
        self.world = world
        # Dictionary-encode only the low-cardinality columns: ids would just cost time.
        self.flows = pq.ParquetWriter(truth_dir / "flows.parquet", FLOW_SCHEMA, compression="zstd",
                                      use_dictionary=["source_table", "direction", "currency", "category",
                                                      "anomaly_type", "status"])
        self.dirt = pq.ParquetWriter(truth_dir / "dirt.parquet", DIRT_SCHEMA, compression="zstd",
                                     use_dictionary=["source_table", "source_file", "dirt_type"])
        self.flow_rows: dict[str, int] = {}

    def add_flows(self, f: Frame, statuses: tuple[str, ...] | None) -> None:
        n = len(f)
        if not n:
            return
        status = (pa.nulls(n, pa.string()) if statuses is None
                  else pa.array(statuses, pa.string()).take(pa.array(f["status"].astype(np.int64))))
        anom = f["anom"].astype(np.int64)
        table = pa.table({
            "source_table": pa.array([f.table] * n, pa.string()),
            "source_record_id": f["rid"].cast(pa.string()),
            "customer_id": take(self.world.customer_id, f["cust"]).cast(pa.string()),
            "flow_ts": pa.array(f["ts"] - UTC_OFFSET_SECONDS, pa.int64()).cast(FLOW_SCHEMA.field("flow_ts").type),
            "direction": _DIRS.take(pa.array(f["dir"].astype(np.int64))),
            "amount": pa.array(f["cents"] / 100.0, pa.float64()),
            "currency": _CURS.take(pa.array(f["cur"].astype(np.int64))),
            "category": _CATS.take(pa.array(f["cat"].astype(np.int64))),
            "is_internal_transfer": pa.array(f["internal"], pa.bool_()),
            "matched_record_id": f["match"].cast(pa.string()),
            "is_anomaly": pa.array(anom > 0, pa.bool_()),
            "anomaly_type": _ANOM.take(pa.array(anom)),
            "status": status,
        }, schema=FLOW_SCHEMA)
        self.flows.write_table(table)
        self.flow_rows[f.table] = self.flow_rows.get(f.table, 0) + n

    def add_dirt(self, table: pa.Table) -> None:
        if table.num_rows:
            self.dirt.write_table(table)

    def close(self) -> None:
        self.flows.close()
        self.dirt.close()


def write_customers(truth_dir: Path, w: World) -> None:
    c = w.customers
    n = len(c)
    a, cards = w.accounts, w.cards
    acct_lists = _lists(a.cust, a.number, n)
    pan_lists = _lists(cards.cust, cards.pan, n)
    churn = pa.array(np.where(c.is_churner, c.churn_day, 0).astype(np.int32), pa.int32()).cast(pa.date32())
    churn = pc.if_else(pa.array(c.is_churner), churn, pa.nulls(n, pa.date32()))
    table = pa.table({
        "customer_id": w.customer_id.cast(pa.string()),
        "persona": take(encode(PERSONAS), c.persona).cast(pa.string()),
        "is_churner": pa.array(c.is_churner),
        "churn_date": churn,
        "is_key_account": pa.array(c.is_key_account),
        "platform_user_id": w.user_id.cast(pa.string()),
        "phone": w.phone.cast(pa.string()),
        "email": w.email.cast(pa.string()),
        "account_nos": acct_lists,
        "pans": pan_lists,
    })
    pq.write_table(table, truth_dir / "customers.parquet", compression="zstd")


def _lists(owner: np.ndarray, values: pa.Array, n: int) -> pa.Array:
    order = np.argsort(owner, kind="stable")
    counts = np.bincount(owner, minlength=n)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), values.take(pa.array(order)).cast(pa.string()))


def write_manifest(truth_dir: Path, config: dict, stats: dict[str, dict[str, FileStats]],
                   flow_rows: dict[str, int]) -> dict:
    files = {}
    totals = {}
    for table in sorted(stats):
        t_rows = t_dup = t_mal = 0
        for rel in sorted(stats[table]):
            st = stats[table][rel]
            files[rel] = {"table": table, "rows": st.rows, "duplicates": st.duplicates, "malformed": st.malformed}
            t_rows += st.rows
            t_dup += st.duplicates
            t_mal += st.malformed
        totals[table] = {
            "files": len(stats[table]), "rows": t_rows, "unique_records": t_rows - t_dup,
            "duplicates": t_dup, "malformed": t_mal,
        }
        if table in flow_rows:
            totals[table]["true_flows"] = flow_rows[table]
    manifest = {"generator": "warehouse.synthetic", "config": config, "tables": totals,
                "files": dict(sorted(files.items()))}
    with open(truth_dir / "manifest.json", "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, ensure_ascii=False, indent=2, sort_keys=False)
        fh.write("\n")
    return manifest
