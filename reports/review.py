"""Report review (报告审核): a report is a draft until someone approves it.

Approvals are appended to ``reports/approvals.jsonl`` (who, when, which version, and the
SHA-256 of each file as it was reviewed), and the banner of the report files is switched from
draft to approved in place. The banner is rewritten rather than the report re-rendered: the
report records the data of its serving version, and re-rendering later would read a newer one.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape
from pathlib import Path

from reports.i18n import LANGUAGES, labels

APPROVALS_FILE = "approvals.jsonl"
_BANNER = re.compile(r"<!--review-status-->.*?<!--/review-status-->", re.S)
_REPORT_NAME = re.compile(r"^fundflow_report_(?P<version>.+)_(?P<lang>zh|en)\.html$")


class ReviewError(Exception):
    """A review action that cannot be done (no report, already approved, bad name)."""


@dataclass(frozen=True)
class Approval:
    version: str
    approved_by: str
    approved_at: str
    files: tuple[str, ...]


def review_banner(t: dict, approval: Approval | None) -> str:
    if approval is None:
        inner = f'<div id="review-status" class="review draft" data-status="draft">{escape(t["draft"])}</div>'
    else:
        text = t["approved"].format(by=approval.approved_by, at=approval.approved_at)
        inner = (f'<div id="review-status" class="review approved" data-status="approved" '
                 f'data-approved-by="{escape(approval.approved_by)}">{escape(text)}</div>')
    return f"<!--review-status-->{inner}<!--/review-status-->"


def report_files(reports_dir: Path, version: str | None = None) -> dict[str, list[Path]]:
    """Report files by version, oldest version first (versions sort by time)."""
    found: dict[str, list[Path]] = {}
    for path in sorted(reports_dir.glob("fundflow_report_*.html")):
        match = _REPORT_NAME.match(path.name)
        if match and (version is None or match["version"] == version):
            found.setdefault(match["version"], []).append(path)
    return dict(sorted(found.items()))


def approvals(reports_dir: Path) -> list[Approval]:
    path = reports_dir / APPROVALS_FILE
    if not path.exists():
        return []
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Approval(r["version"], r["approved_by"], r["approved_at"], tuple(f["path"] for f in r["files"])) for r in records]


def approval_of(reports_dir: Path, version: str) -> Approval | None:
    return next((a for a in approvals(reports_dir) if a.version == version), None)


def approve(reports_dir: Path, approved_by: str, *, version: str | None = None, now: datetime | None = None) -> Approval:
    """Approve every language of one report version (the latest when ``version`` is None)."""
    approved_by = approved_by.strip()
    if not approved_by:
        raise ReviewError("an approval needs the reviewer's name (--by)")
    versions = report_files(reports_dir, version)
    if not versions:
        raise ReviewError(f"no report{' for version ' + version if version else ''} in {reports_dir}")
    version, paths = list(versions.items())[-1]
    existing = approval_of(reports_dir, version)
    if existing is not None:
        raise ReviewError(f"report {version} was already approved by {existing.approved_by} at {existing.approved_at}")
    approved_at = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M:%S UTC")
    approval = Approval(version, approved_by, approved_at, tuple(p.name for p in paths))
    record = {
        "version": version, "approved_by": approved_by, "approved_at": approved_at,
        "files": [{"path": p.name, "sha256_reviewed": hashlib.sha256(p.read_bytes()).hexdigest()} for p in paths],
    }
    for path in paths:
        lang = _REPORT_NAME.match(path.name)["lang"]
        html = path.read_text(encoding="utf-8")
        if not _BANNER.search(html):
            raise ReviewError(f"{path} has no review banner; it was not produced by reports.fundflow_report")
        updated = _BANNER.sub(lambda _: review_banner(labels(lang), approval), html, count=1)
        tmp = path.with_suffix(".html.tmp")
        tmp.write_text(updated, encoding="utf-8")
        tmp.replace(path)
    with (reports_dir / APPROVALS_FILE).open("a", encoding="utf-8") as log:
        log.write(json.dumps(record, ensure_ascii=False) + "\n")
    return approval


def status(reports_dir: Path) -> list[tuple[str, list[str], Approval | None]]:
    """(version, languages, approval or None) for every report version present."""
    return [
        (version, [l for l in LANGUAGES if any(p.name.endswith(f"_{l}.html") for p in paths)], approval_of(reports_dir, version))
        for version, paths in report_files(reports_dir).items()
    ]
