"""A small PKDD'99 ("Berka") delivery written in the challenge's exact file format, with its truth.

Format as in the published files: ``;``-separated, text fields in double quotes, numbers bare,
CRLF line endings, ASCII, a quoted header row, dates ``YYMMDD`` (19YY), women's birth month + 50,
blanks written as ``""`` or ``" "``, ``?`` for a missing district figure, ``VYBER`` as the type of
some cash withdrawals, card ``issued`` as ``YYMMDD hh:mm:ss``.

Planted on purpose (counted in ``BerkaTruth``): reported balances that are wrong on single
lines, exact re-exported transaction lines, transactions with an unknown type code, a loan with
an unknown status, and ``card.asc`` cut off in the middle of its last line (a truncated file).
Deterministic for a seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

DISTRICTS = [
    # id, name, region
    (1, "Hl.m. Praha", "Prague"),
    (2, "Benesov", "central Bohemia"),
    (3, "Beroun", "central Bohemia"),
    (4, "Kladno", "central Bohemia"),
    (5, "Ceske Budejovice", "south Bohemia"),
    (6, "Tabor", "south Bohemia"),
    (7, "Plzen - mesto", "west Bohemia"),
    (8, "Brno - mesto", "south Moravia"),
    (9, "Znojmo", "south Moravia"),
    (10, "Ostrava - mesto", "north Moravia"),
    (11, "Olomouc", "north Moravia"),
    (12, "Liberec", "north Bohemia"),
]
DISTRICT_WITH_MISSING = 12  # its '95 unemployment and '95 crimes are '?'

LAST_MONTH = date(1995, 12, 1)  # the delivery's last month of transactions
FREQUENCIES = ["POPLATEK MESICNE", "POPLATEK TYDNE", "POPLATEK PO OBRATU"]
STANDING_ORDER_SYMBOLS = ["POJISTNE", "SIPO", "LEASING", "UVER", ""]


@dataclass
class BerkaTruth:
    accounts: int = 0
    clients: int = 0
    women: int = 0
    dispositions: int = 0
    owners: int = 0
    trans_lines: int = 0  # data lines delivered in trans.asc
    duplicate_trans: int = 0  # re-exported copies (not counted in trans_lines' unique ids)
    unknown_type_trans: int = 0
    unknown_type_gaps: int = 0  # of those, lines that are not the account's first (they leave a gap)
    wrong_balances: int = 0
    loans: int = 0
    default_loans: int = 0  # status B or D
    unknown_status_loans: int = 0
    cards: int = 0
    truncated_card_lines: int = 0
    birth: dict[int, tuple[str, date]] = field(default_factory=dict)  # client_id -> (gender, birth date)
    # account_id -> (client_id of the owner, district_id)
    account_owner: dict[int, int] = field(default_factory=dict)
    flows_in_czk: float = 0.0  # sum of usable transaction amounts (after dedup)
    usable_trans: int = 0


def _q(value: str) -> str:
    return f'"{value}"'


def _number(value: float) -> str:
    # bare numbers with one decimal where that is exact, as in the published files (700.0)
    return f"{value:.1f}" if abs(value - round(value, 1)) < 1e-9 else f"{value:.2f}"


def _yymmdd(day: date) -> str:
    return day.strftime("%y%m%d")


def _birth_number(born: date, gender: str) -> str:
    month = born.month + (50 if gender == "F" else 0)
    return f"{born.year % 100:02d}{month:02d}{born.day:02d}"


def _blank(rng: random.Random) -> str:
    # the published trans.asc writes an empty code both ways
    return _q(" ") if rng.random() < 0.3 else _q("")


def _write(path: Path, header: list[str], rows: list[str], truncate_last: int = 0) -> None:
    text = "\r\n".join([";".join(_q(h) for h in header), *rows]) + "\r\n"
    data = text.encode("ascii")
    if truncate_last:
        data = data[: len(data) - 2 - truncate_last]  # no final CRLF, last line cut short
    path.write_bytes(data)


def write_berka(folder: Path, accounts: int = 300, seed: int = 5, truncate_cards: bool = True) -> BerkaTruth:
    """Write the eight .asc files into ``folder`` (the ``berka`` channel folder)."""
    rng = random.Random(seed)
    truth = BerkaTruth()
    folder.mkdir(parents=True, exist_ok=True)

    # district.asc: A1..A16
    district_rows = []
    for district_id, name, region in DISTRICTS:
        unemployment95 = "?" if district_id == DISTRICT_WITH_MISSING else f"{rng.uniform(0.5, 7):.2f}"
        crimes95 = "?" if district_id == DISTRICT_WITH_MISSING else str(rng.randint(800, 90000))
        district_rows.append(";".join([
            str(district_id), _q(name), _q(region), str(rng.randint(40000, 1200000)),
            str(rng.randint(0, 80)), str(rng.randint(0, 40)), str(rng.randint(0, 10)), str(rng.randint(0, 3)),
            str(rng.randint(1, 12)), f"{rng.uniform(30, 100):.1f}", str(rng.randint(8000, 12600)),
            unemployment95, f"{rng.uniform(0.5, 8):.2f}", str(rng.randint(80, 170)),
            crimes95, str(rng.randint(800, 99000)),
        ]))
    _write(folder / "district.asc", [f"A{i}" for i in range(1, 17)], district_rows)

    account_rows, client_rows, disp_rows, order_rows, loan_rows, card_rows, trans_rows = [], [], [], [], [], [], []
    client_id, disp_id, order_id, loan_id, card_id, trans_id = 0, 0, 30000, 4000, 1000, 100000
    owner_disps: list[int] = []
    # trans lines by account, kept in order so balances can be computed
    for account_id in range(1, accounts + 1):
        district_id = rng.randint(1, len(DISTRICTS))
        opened = date(1993, 1, 1) + timedelta(days=rng.randint(0, 640))
        account_rows.append(";".join([str(account_id), str(district_id), _q(rng.choice(FREQUENCIES)), _yymmdd(opened)]))
        truth.accounts += 1
        # owner, and a disponent on some accounts
        holders = ["OWNER"] + (["DISPONENT"] if rng.random() < 0.2 else [])
        for holder in holders:
            client_id += 1
            disp_id += 1
            gender = rng.choice("MF")
            born = date(1920, 1, 1) + timedelta(days=rng.randint(0, 365 * 60))
            truth.birth[client_id] = (gender, born)
            truth.women += gender == "F"
            client_rows.append(";".join([str(client_id), _q(_birth_number(born, gender)), str(rng.randint(1, len(DISTRICTS)))]))
            disp_rows.append(";".join([str(disp_id), str(client_id), str(account_id), _q(holder)]))
            truth.clients += 1
            truth.dispositions += 1
            if holder == "OWNER":
                truth.owners += 1
                truth.account_owner[account_id] = client_id
                owner_disps.append(disp_id)
                if rng.random() < 0.25:
                    card_id += 1
                    issued = opened + timedelta(days=rng.randint(30, 600))
                    card_rows.append(";".join([str(card_id), str(disp_id), _q(rng.choice(["junior", "classic", "gold"])),
                                               _q(issued.strftime("%y%m%d") + " 00:00:00")]))
                    truth.cards += 1
        # standing orders
        for _ in range(rng.randint(0, 2)):
            order_id += 1
            order_rows.append(";".join([str(order_id), str(account_id), _q(rng.choice(["AB", "CD", "EF", "GH"])),
                                        _q(str(rng.randint(10000000, 99999999))), f"{rng.randint(100, 9000)}.0",
                                        _q(rng.choice(STANDING_ORDER_SYMBOLS)) if rng.random() > 0.1 else _q(" ")]))
        # a loan on some accounts
        loan_payment = 0.0
        if rng.random() < 0.3:
            loan_id += 1
            duration = rng.choice([12, 24, 36, 48, 60])
            loan_payment = float(rng.randint(800, 9000))
            status = rng.choice("AABCCCD")
            if loan_id % 41 == 0:
                status = "X"  # unknown status code
                truth.unknown_status_loans += 1
            elif status in "BD":
                truth.default_loans += 1
            loan_rows.append(";".join([str(loan_id), str(account_id), _yymmdd(opened + timedelta(days=60)),
                                       str(int(loan_payment * duration)), str(duration), f"{loan_payment:.1f}",
                                       _q(status)]))
            truth.loans += 1

        # transactions: opening deposit, then monthly income, spending, fees and interest
        balance = 0.0
        lines: list[list] = []  # [trans_id, day, type, operation, amount, k_symbol, bank, account]
        day = opened
        salary = float(rng.randint(8000, 60000))
        pensioner = rng.random() < 0.15

        def add(day: date, kind: str, operation: str, amount: float, k_symbol: str | None, bank: str = "", account: str = ""):
            nonlocal trans_id
            trans_id += 1
            lines.append([trans_id, day, kind, operation, round(amount, 2), k_symbol, bank, account])

        add(day, "PRIJEM", "VKLAD", float(rng.randint(500, 5000)), None)
        # active from the month after opening to the end of the delivery (1995-12), as most
        # accounts of the challenge are; a few close early (churners for the ML models)
        months = (LAST_MONTH.year - opened.year) * 12 + LAST_MONTH.month - opened.month
        if rng.random() < 0.1:
            months = rng.randint(3, months)
        for month in range(months):
            month_start = date(opened.year + (opened.month - 1 + month + 1) // 12, (opened.month - 1 + month + 1) % 12 + 1, 1)
            add(month_start + timedelta(days=rng.randint(0, 4)), "PRIJEM", "PREVOD Z UCTU", salary,
                "DUCHOD" if pensioner else None, rng.choice(["AB", "CD", "EF"]), str(rng.randint(10000000, 99999999)))
            for _ in range(rng.randint(1, 4)):
                withdraw_type = "VYBER" if rng.random() < 0.15 else "VYDAJ"
                add(month_start + timedelta(days=rng.randint(5, 20)), withdraw_type, "VYBER",
                    float(rng.randint(100, int(salary * 0.3))), None)
            if rng.random() < 0.5:
                add(month_start + timedelta(days=rng.randint(5, 25)), "VYDAJ", "VYBER KARTOU", float(rng.randint(100, 3000)), None)
            add(month_start + timedelta(days=rng.randint(10, 15)), "VYDAJ", "PREVOD NA UCET", float(rng.randint(500, 4000)),
                rng.choice(["SIPO", "POJISTNE"]), rng.choice(["AB", "CD"]), str(rng.randint(10000000, 99999999)))
            if loan_payment:
                add(month_start + timedelta(days=rng.randint(10, 15)), "VYDAJ", "PREVOD NA UCET", loan_payment, "UVER",
                    "QR", str(rng.randint(10000000, 99999999)))
            if rng.random() < 0.3:
                add(month_start + timedelta(days=rng.randint(1, 27)), "PRIJEM", "VKLAD", float(rng.randint(200, 9000)), None)
            month_end = month_start + timedelta(days=27)
            add(month_end, "VYDAJ", "VYBER", 14.6, "SLUZBY")
            add(month_end, "PRIJEM", "", round(rng.uniform(5, 300), 1), "UROK")
        lines.sort(key=lambda line: (line[1], line[0]))
        # keep trans_id ascending in date order (the running balance follows (date, trans_id))
        ids = sorted(line[0] for line in lines)
        for new_id, line in zip(ids, lines):
            line[0] = new_id

        # which lines carry a planted fault; never two faults on neighbouring lines, so each
        # shows on its own in the balance check
        faults: dict[int, str] = {}
        for index in range(1, len(lines) - 1):
            if index - 1 in faults or rng.random() >= 0.006:
                continue
            faults[index] = "wrong_balance" if rng.random() < 0.65 else "unknown_type"
        rendered: list[str] = []
        for index, (tid, day, kind, operation, amount, k_symbol, bank, account) in enumerate(lines):
            signed = amount if kind == "PRIJEM" else -amount
            balance = round(balance + signed, 2)
            reported = balance
            type_code = kind
            if faults.get(index) == "wrong_balance":
                reported = round(balance + rng.choice([-1, 1]) * rng.randint(1, 500) * 10, 2)
                truth.wrong_balances += 1
            if faults.get(index) == "unknown_type":
                type_code = "PRIJEM X"  # unknown type code: cannot tell the direction
                truth.unknown_type_trans += 1
                truth.unknown_type_gaps += 1
            else:
                truth.usable_trans += 1
                truth.flows_in_czk += amount
            row = ";".join([
                str(tid), str(account_id), _yymmdd(day), _q(type_code), _q(operation) if operation else _blank(rng),
                _number(amount), _number(reported),
                _q(k_symbol) if k_symbol else _blank(rng), _q(bank), _q(account) if account else _q(""),
            ])
            rendered.append(row)
            if index not in faults and rng.random() < 0.003:
                rendered.append(row)  # exact re-export of the line
                truth.duplicate_trans += 1
        trans_rows.extend(rendered)

    _write(folder / "account.asc", ["account_id", "district_id", "frequency", "date"], account_rows)
    _write(folder / "client.asc", ["client_id", "birth_number", "district_id"], client_rows)
    _write(folder / "disp.asc", ["disp_id", "client_id", "account_id", "type"], disp_rows)
    _write(folder / "order.asc", ["order_id", "account_id", "bank_to", "account_to", "amount", "k_symbol"], order_rows)
    _write(folder / "trans.asc", ["trans_id", "account_id", "date", "type", "operation", "amount", "balance",
                                  "k_symbol", "bank", "account"], trans_rows)
    _write(folder / "loan.asc", ["loan_id", "account_id", "date", "amount", "duration", "payments", "status"], loan_rows)
    _write(folder / "card.asc", ["card_id", "disp_id", "type", "issued"], card_rows,
           truncate_last=6 if truncate_cards else 0)
    truth.truncated_card_lines = 1 if truncate_cards else 0
    truth.trans_lines = len(trans_rows)
    return truth
