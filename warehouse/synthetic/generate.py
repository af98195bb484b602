"""``generate``: the whole demo landing zone and its truth, month by month."""

from __future__ import annotations

import datetime as dt
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..landing.specs import SOURCES
from . import anomalies, bank, cards, crm, ecommerce, payments
from .context import MonthContext
from .dirt import DirtRates, plant
from .files import FileStats, TableWriter
from .frames import Frame, RecordIds, split_by_ts
from .fx import generate_fx
from .seasonality import DAY, from_day, months_of
from .truth import TruthWriter, write_customers, write_manifest
from .world import build_world

Progress = Callable[[str, int, int], None]
GENERATOR_VERSION = 1

# Independent random streams per purpose (and per month): changing one part of the generator
# does not reshuffle the others, and months can be generated in any order.
_STREAMS = {name: i for i, name in enumerate((
    "people", "accounts", "cards", "platform", "registry", "catalogue", "fx", "crm", "wallet",
    "bank", "payments", "ecommerce", "card_txn", "statements", "anomalies", "settle", "dirt", "files",
), start=1)}
_TABLE_KEYS = {name: i for i, name in enumerate((
    bank.TABLE, payments.TABLE, ecommerce.TABLE, cards.TABLE, cards.STATEMENTS), start=1)}
MONEY_TABLES = (bank.TABLE, payments.TABLE, ecommerce.TABLE, cards.TABLE)


class _Pipeline:
    """Runs ``work`` on a background thread, in submission order, at most two months behind."""

    def __init__(self, work: Callable[..., None]):
        self.work = work
        self.queue: queue.Queue = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="synthetic-writer", daemon=True)

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            if self.error is None:
                try:
                    self.work(*item)
                except BaseException as exc:  # re-raised in the generating thread
                    self.error = exc

    def submit(self, *args) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(args)

    def __enter__(self) -> _Pipeline:
        self.thread.start()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.queue.put(None)
        self.thread.join()
        if exc is None and self.error is not None:
            raise self.error


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


@dataclass(frozen=True)
class GenerationSummary:
    """What one ``generate`` run wrote."""

    landing_dir: Path
    truth_dir: Path
    files: tuple[str, ...]  # paths relative to landing_dir, sorted
    rows: dict[str, int]  # delivered data rows per raw table (duplicates and malformed included)
    duplicates: dict[str, int]  # re-exported duplicate rows planted per raw table
    malformed: dict[str, int]  # malformed lines planted per raw table
    records: int  # true money-movement records delivered (before duplicates)
    seconds: float

    @property
    def files_written(self) -> int:
        return len(self.files)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


# The channels this generator writes. Clearing is limited to them: the landing folder may also
# hold a user's real deliveries of other formats (PKDD'99, Online Retail, CDNOW), which a
# regenerated demo must never delete.
DEMO_CHANNELS = ("bank", "payments", "ecommerce", "cards", "crm", "reference")


def _clear_landing(landing_dir: Path) -> None:
    """Remove files a previous run left (only names this generator writes)."""
    for spec in SOURCES:
        if spec.channel not in DEMO_CHANNELS:
            continue
        folder = landing_dir / spec.channel
        if folder.is_dir():
            for path in sorted(folder.glob(spec.pattern)):
                path.unlink()


def generate(
    landing_dir: Path,
    truth_dir: Path,
    *,
    customers: int = 3000,
    seed: int = 42,
    start: dt.date = dt.date(2024, 11, 1),
    months: int = 24,
    dirt: DirtRates | None = None,
    progress: Progress | None = None,
) -> GenerationSummary:
    """Write the demo landing files under ``landing_dir`` and the planted truth under ``truth_dir``.

    Deterministic: the same arguments give byte-identical files. Files of earlier runs that match
    the landing specs' patterns are removed first, so the landing zone holds exactly one run.
    """
    t0 = time.perf_counter()
    if customers < 1:
        raise ValueError("customers must be >= 1")
    landing_dir, truth_dir = Path(landing_dir), Path(truth_dir)
    if landing_dir.resolve() == truth_dir.resolve():
        raise ValueError("truth_dir must not be the landing directory")
    rates = dirt if dirt is not None else DirtRates()
    report = progress or (lambda stage, done, total: None)
    period = months_of(start, months)
    period_start, period_end = period[0].start_ts, period[-1].end_ts

    report("world", 0, 1)
    streams = {name: _rng(seed, key) for name, key in _STREAMS.items()}
    world = build_world(customers, period, streams)
    fx = generate_fx(period, streams["fx"])
    ids = RecordIds()
    planter = anomalies.Planter()
    wallets = payments.Wallets(customers, streams["wallet"])
    report("world", 1, 1)

    landing_dir.mkdir(parents=True, exist_ok=True)
    _clear_landing(landing_dir)
    truth = TruthWriter(truth_dir, world)
    writers = {t: TableWriter(landing_dir, t) for t in _TABLE_KEYS}
    pending: dict[str, list[Frame]] = {t: [] for t in (bank.TABLE, payments.TABLE, cards.TABLE)}

    def carry(table: str, frames: list[Frame], end_ts: int) -> Frame:
        now, later = split_by_ts(Frame.concat(table, pending[table] + frames), end_ts)
        pending[table] = [later] if len(later) else []
        return now

    def deliver(table: str, build: Callable[[], object], month_index: int, is_last: bool):
        key = _TABLE_KEYS[table]
        delivery = build()
        planted = plant(delivery, rates, _rng(seed, _STREAMS["dirt"], key, month_index))
        return writers[table].write(delivery, planted, _rng(seed, _STREAMS["files"], key, month_index), is_last)

    helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="synthetic-bank")

    def write_month(ctx: MonthContext, bank_lines: Frame, trades: Frame, lines: Frame, card_txns: Frame,
                    stmts: Frame) -> None:
        i, is_last = ctx.month.index, ctx.month.index == len(period) - 1
        # The bank (the biggest table) is written on a helper thread while the rest goes here.
        bank_job = helper.submit(deliver, bank.TABLE, lambda: bank.delivery(ctx, bank_lines), i, is_last)
        dirt = [
            deliver(payments.TABLE, lambda: payments.delivery(ctx, trades), i, is_last),
            deliver(ecommerce.TABLE, lambda: ecommerce.delivery(ctx, lines), i, is_last),
            deliver(cards.TABLE, lambda: cards.txn_delivery(ctx, card_txns), i, is_last),
            deliver(cards.STATEMENTS, lambda: cards.statement_delivery(ctx, stmts), i, is_last),
        ]
        truth.add_flows(trades, payments.STATUSES)
        truth.add_flows(lines, ecommerce.STATUSES)
        truth.add_flows(card_txns, None)
        truth.add_flows(stmts.mask((stmts["paid_day"] >= 0) & (stmts["cents"] > 0)), None)
        truth.add_flows(bank_lines, None)
        for table in [bank_job.result()] + dirt:
            truth.add_dirt(table)

    # Formatting and writing month m overlaps generating month m+1 (Arrow and numpy release the
    # GIL); the writer handles months strictly in order, each with its own random streams, so the
    # output does not depend on timing.
    try:
        with _Pipeline(write_month) as pipe:
            for m in period:
                i = m.index
                ctx = MonthContext(world, fx, ids, m, period_start, period_end)

                lines, echo_trades = ecommerce.orders(ctx, _rng(seed, _STREAMS["ecommerce"], i))
                own_trades = payments.trades(ctx, _rng(seed, _STREAMS["payments"], i))
                planted_events = planter.month(ctx, _rng(seed, _STREAMS["anomalies"], i))

                card_txns = carry(cards.TABLE, [cards.transactions(ctx, _rng(seed, _STREAMS["card_txn"], i))]
                                  + planted_events[cards.TABLE], m.end_ts)
                card_txns, stmts, repayment_legs = cards.statements(ctx, card_txns, _rng(seed, _STREAMS["statements"], i))

                trades = carry(payments.TABLE, own_trades + echo_trades + planted_events[payments.TABLE], m.end_ts)
                wallet_trades, wallet_legs = payments.balance_wallets(ctx, trades, wallets,
                                                                      _rng(seed, _STREAMS["wallet"], i))
                trades = payments.sort_for_files(Frame.concat(payments.TABLE, [trades] + wallet_trades))

                bank_lines = carry(bank.TABLE, bank.native_events(ctx, _rng(seed, _STREAMS["bank"], i))
                                   + planted_events[bank.TABLE] + [repayment_legs] + wallet_legs, m.end_ts)
                bank_lines = bank.settle(ctx, [bank_lines], _rng(seed, _STREAMS["settle"], i))

                pipe.submit(ctx, bank_lines, trades, lines, cards.sort_txns(card_txns), cards.sort_statements(stmts))
                report("months", i + 1, len(period))
    finally:
        helper.shutdown()
        truth.close()

    report("snapshots", 0, 1)
    rng = streams["crm"]
    snapshot_rows = {
        "crm__customers": crm.write_customers(landing_dir, world, period_end, rng),
        "crm__accounts": crm.write_accounts(landing_dir, world),
        "crm__surveys": crm.write_surveys(landing_dir, world, period, rng),
        "crm__marketing_spend": crm.write_marketing_spend(landing_dir, world, period, rng),
        "payments__users": crm.write_platform_users(landing_dir, world),
        "cards__accounts": crm.write_card_accounts(landing_dir, world, period_end),
        "reference__fx_rates": crm.write_fx(landing_dir, fx),
    }
    write_customers(truth_dir, world)
    report("snapshots", 1, 1)

    stats = {t: w.stats for t, w in writers.items()}
    snapshot_files = {
        "crm__customers": "crm/customers.csv", "crm__accounts": "crm/accounts.csv",
        "crm__surveys": "crm/surveys.csv", "crm__marketing_spend": "crm/marketing_spend.csv",
        "payments__users": "payments/users.csv", "cards__accounts": "cards/card_accounts.csv",
        "reference__fx_rates": "reference/fx_rates.csv",
    }
    for table, rel in snapshot_files.items():
        stats[table] = {rel: FileStats(rows=snapshot_rows[table])}
    config = {
        "version": GENERATOR_VERSION, "seed": seed, "customers": customers, "start": start.isoformat(),
        "months": months, "end": from_day(period_end // DAY - 1).isoformat(), "dirt": rates.as_dict(),
    }
    manifest = write_manifest(truth_dir, config, stats, truth.flow_rows)
    tables = manifest["tables"]
    return GenerationSummary(
        landing_dir=landing_dir,
        truth_dir=truth_dir,
        files=tuple(sorted(manifest["files"])),
        rows={t: v["rows"] for t, v in tables.items()},
        duplicates={t: v["duplicates"] for t, v in tables.items()},
        malformed={t: v["malformed"] for t, v in tables.items()},
        records=sum(tables[t]["unique_records"] for t in MONEY_TABLES),
        seconds=time.perf_counter() - t0,
    )
