"""Personal identifiers that look and validate like real ones.

- Resident ID numbers follow GB 11643-1999: 6-digit region code, birth date, 3-digit sequence
  (odd for men, even for women) and the ISO 7064 MOD 11-2 check character.
- Card numbers (PANs) and the bank's 19-digit account numbers carry a Luhn check digit.
- Mobile numbers are 11 digits starting with a real 1[3-9]x prefix; all are unique.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import catalog
from .seasonality import from_day
from .textops import by_unique, digits_text, encode, join, take, zero_pad

_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = np.array(list("10X98765432"))


def _digit_matrix(values: np.ndarray, width: int) -> np.ndarray:
    v = np.asarray(values, dtype=np.int64)[:, None]
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (v // powers) % 10


def id_check_chars(first17: np.ndarray) -> np.ndarray:
    """Check characters for an (n, 17) matrix of ID-number digits."""
    return _ID_CHECK[(first17 * _ID_WEIGHTS).sum(axis=1) % 11]


def id_check_char(body: str) -> str:
    """Check character of a 17-digit ID-number body (scalar version, for tests and docs)."""
    return str(_ID_CHECK[sum(int(c) * w for c, w in zip(body, _ID_WEIGHTS)) % 11])


def id_numbers(region: np.ndarray, birth_day: np.ndarray, male: np.ndarray, rng: np.random.Generator) -> pa.Array:
    """18-character ID numbers; ``region`` holds 6-digit region codes as integers."""
    n = len(region)
    seq = rng.integers(0, 500, n) * 2 + np.where(male, 1, 0)  # 000-999, parity = gender
    seq = np.where(seq == 0, 2, seq)
    uniq, inv = np.unique(birth_day, return_inverse=True)
    ymd = np.array([int(from_day(d).strftime("%Y%m%d")) for d in uniq], dtype=np.int64)
    birth_num = ymd[inv]
    digits = np.concatenate(
        [_digit_matrix(region, 6), _digit_matrix(birth_num, 8), _digit_matrix(seq, 3)], axis=1
    )
    check = id_check_chars(digits)
    body = join(digits_text(region, 6), digits_text(birth_num, 8), zero_pad(seq, 3))
    return join(body, encode(check.tolist()))


def luhn_check_digits(body: np.ndarray, width: int) -> np.ndarray:
    """Luhn check digit for each integer body of ``width`` digits (the digit appended after it)."""
    d = _digit_matrix(body, width)[:, ::-1]  # rightmost body digit is doubled
    doubled = d[:, 0::2] * 2
    doubled = np.where(doubled > 9, doubled - 9, doubled)
    total = doubled.sum(axis=1) + d[:, 1::2].sum(axis=1)
    return (10 - total % 10) % 10


def luhn_valid(number: str) -> bool:
    digits = [int(c) for c in number]
    total = 0
    for i, dgt in enumerate(reversed(digits)):
        if i % 2 == 1:
            dgt *= 2
            dgt = dgt - 9 if dgt > 9 else dgt
        total += dgt
    return total % 10 == 0


def luhn_numbers(prefixes: np.ndarray, body_digits: int, rng: np.random.Generator, unique: bool = True) -> pa.Array:
    """``prefix`` (6 digits, integer) + ``body_digits`` random digits + Luhn digit."""
    n = len(prefixes)
    space = 10**body_digits
    if unique:
        rnd = rng.choice(space, size=n, replace=False) if n else np.zeros(0, dtype=np.int64)
    else:
        rnd = rng.integers(0, space, n)
    prefixes = np.asarray(prefixes, dtype=np.int64)
    check = luhn_check_digits(prefixes * space + rnd, 6 + body_digits) if n else np.zeros(0, dtype=np.int64)
    # prefix*10**12 overflows nothing: 6+12 digits = 18 < 19 digits of int64
    return join(digits_text(prefixes, 6), digits_text(rnd, body_digits), zero_pad(check, 1))


def mobile_numbers(n: int, rng: np.random.Generator) -> pa.Array:
    prefix = rng.integers(0, len(catalog.MOBILE_PREFIXES), n)
    suffix = rng.choice(10**8, size=n, replace=False) if n else np.zeros(0, dtype=np.int64)
    return join(take(encode(catalog.MOBILE_PREFIXES), prefix), digits_text(suffix, 8))


@dataclass(frozen=True)
class Names:
    """Chinese names as table indices, so each file can render them in its own encoding."""

    surname: np.ndarray
    first: np.ndarray
    second: np.ndarray  # index of the empty entry = one-character given name

    def __len__(self) -> int:
        return len(self.surname)

    def render(self, encoding: str = "utf-8") -> pa.Array:
        s_han = encode([s for s, _, _ in catalog.SURNAMES], encoding)
        g_han = encode([c for c, _ in _GIVEN_POOL] + [""], encoding)
        return join(take(s_han, self.surname), take(g_han, self.first), take(g_han, self.second))

    def pinyin(self) -> tuple[pa.Array, pa.Array]:
        s_py = encode([p for _, p, _ in catalog.SURNAMES])
        g_py = encode([p for _, p in _GIVEN_POOL] + [""])
        return take(s_py, self.surname), join(take(g_py, self.first), take(g_py, self.second))


_MALE_POOL = catalog.GIVEN_MALE + catalog.GIVEN_NEUTRAL
_FEMALE_POOL = catalog.GIVEN_FEMALE + catalog.GIVEN_NEUTRAL
_GIVEN_POOL = _MALE_POOL + _FEMALE_POOL


def chinese_names(male: np.ndarray, rng: np.random.Generator) -> Names:
    n = len(male)
    sw = np.array([w for _, _, w in catalog.SURNAMES])
    surname = rng.choice(len(sw), size=n, p=sw / sw.sum())

    def pick() -> np.ndarray:
        m = rng.integers(0, len(_MALE_POOL), n)
        f = len(_MALE_POOL) + rng.integers(0, len(_FEMALE_POOL), n)
        return np.where(male, m, f)

    first, second = pick(), pick()
    two = rng.random(n) < 0.72
    return Names(surname, first, np.where(two, second, len(_GIVEN_POOL)))


def emails(surname_py: pa.Array, given_py: pa.Array, rng: np.random.Generator) -> pa.Array:
    """Unique e-mail addresses: QQ numbers, pinyin handles with digits, or dotted names."""
    n = len(surname_py)
    dw = np.array([w for _, w in catalog.EMAIL_DOMAINS])
    domain = rng.choice(len(dw), size=n, p=dw / dw.sum())
    domains = encode([d for d, _ in catalog.EMAIL_DOMAINS])
    style = rng.integers(0, 3, n)
    qq = rng.choice(9 * 10**9, size=n, replace=False) + 10**8  # 9-10 digit numbers, unique
    digits = rng.integers(1, 10_000, n)
    handle_a = join(surname_py, given_py, pc.cast(pa.array(digits), pa.string()))
    handle_b = join(given_py, b".", surname_py, pc.cast(pa.array(digits % 100), pa.string()))
    handle_q = pc.cast(pa.array(qq), pa.string()).cast(pa.binary())
    qq_domain = domain == 0
    handle = pc.if_else(pa.array(qq_domain), handle_q,
                        pc.if_else(pa.array(style == 0), handle_b, handle_a))
    address = join(handle, b"@", take(domains, domain))
    # Collisions (same name, same digits) get the row number appended: still deterministic.
    values = address.to_numpy(zero_copy_only=False)
    _, first_idx, counts = np.unique(values, return_index=True, return_counts=True)
    if (counts > 1).any():
        dup = np.ones(n, dtype=bool)
        dup[first_idx] = False
        fixed = join(handle, pc.cast(pa.array(np.arange(n)), pa.string()), b"@", take(domains, domain))
        address = pc.if_else(pa.array(dup), fixed, address)
    return address


def birth_date_text(days: np.ndarray) -> pa.Array:
    return by_unique(days, lambda d: from_day(d).isoformat())
