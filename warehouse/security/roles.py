"""Roles of the serving layer (权限管理), read from ``roles.yml`` beside this module.

Each role becomes one or more ``Audience`` objects (one per region for a region-scoped role),
which ``warehouse.publishing.publish`` turns into a serving file under ``serving/roles/``.
Every name in the file is allow-listed before any SQL is built from it; city names are values
and are bound as parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from warehouse.security.identifiers import UnsafeNameError, checked_identifier, checked_qualified_name
from warehouse.serving.audience import Audience, TableGrant

ROLES_FILE = Path(__file__).with_name("roles.yml")
ROLES_SUBDIR = "roles"
_MAX_VALUE_LENGTH = 64
# customer_id of a customer living in one of the bound cities; the only row filter there is.
_REGION_FILTER = "customer_id in (select customer_id from marts.dim_customer where city in ({placeholders}))"


@dataclass(frozen=True)
class RoleFile:
    """One published role file: the role, its region (if scoped) and the audience to publish."""

    role: str
    region: str | None
    cities: tuple[str, ...]
    audience: Audience


def load_roles(path: Path = ROLES_FILE) -> list[RoleFile]:
    config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    roles = config.get("roles")
    if not isinstance(roles, dict) or not roles:
        raise UnsafeNameError(f"{path}: expected a mapping `roles:` with at least one role")
    files: list[RoleFile] = []
    for role, spec in roles.items():
        checked_identifier(role, "role name")
        grants = _grants(role, spec.get("tables"))
        scope = spec.get("row_scope")
        if scope is None:
            files.append(RoleFile(role, None, (), _audience(role, spec, grants)))
            continue
        checked_identifier(scope, f"row_scope of role {role}", allowed={"region"})
        regions = spec.get("regions")
        if not isinstance(regions, dict) or not regions:
            raise UnsafeNameError(f"role {role} is scoped by region but lists no `regions:`")
        for region, cities in regions.items():
            checked_identifier(region, f"region name of role {role}")
            cities = tuple(_checked_value(c, f"city of region {region}") for c in cities or ())
            if not cities:
                raise UnsafeNameError(f"region {region} of role {role} lists no cities")
            row_filter = _REGION_FILTER.format(placeholders=", ".join("?" for _ in cities))
            scoped = {name: TableGrant(g.columns, row_filter, cities) for name, g in grants.items()}
            name = f"{role}_{region}"
            files.append(RoleFile(role, region, cities, _audience(name, spec, scoped)))
    return files


def _audience(name: str, spec: dict, grants: dict[str, TableGrant]) -> Audience:
    return Audience(
        name=name,
        description=str(spec.get("description", "")).strip(),
        subdir=f"{ROLES_SUBDIR}/{name}",
        grants=grants,
        bi_views=False,
    )


def _grants(role: str, tables: object) -> dict[str, TableGrant]:
    if not isinstance(tables, dict) or not tables:
        raise UnsafeNameError(f"role {role} grants no tables")
    grants: dict[str, TableGrant] = {}
    for qualified, grant in tables.items():
        schema, table = checked_qualified_name(qualified, f"table granted to {role}")
        if grant == "all":
            grants[f"{schema}.{table}"] = TableGrant()
        elif isinstance(grant, dict) and set(grant) == {"columns"} and grant["columns"]:
            columns = tuple(checked_identifier(c, f"column of {qualified} granted to {role}") for c in grant["columns"])
            grants[f"{schema}.{table}"] = TableGrant(columns=columns)
        else:
            raise UnsafeNameError(f"grant of {qualified} to {role} must be `all` or `{{columns: [...]}}`")
    return grants


def _checked_value(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_VALUE_LENGTH:
        raise UnsafeNameError(f"{what} must be a non-empty text of at most {_MAX_VALUE_LENGTH} characters")
    return value
