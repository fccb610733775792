"""The dated prices file (``prices.json`` next to this module), loaded into types.

Every price names the page it was read from; a price that could not be sourced is
``None`` and stays ``None``: the planner reports the quantity without a cost rather
than a guess.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

PRICES_FILE = Path(__file__).with_name("prices.json")
DEFAULT_REGION = "us-east-1"


class PricesError(ValueError):
    """The prices file is malformed, or has no figures for the asked region."""


@dataclass(frozen=True, slots=True)
class Price:
    """USD per ``per`` units of ``unit`` (``usd`` None: not found, see ``note``)."""

    key: str
    usd: float | None
    unit: str
    per: int = 1
    source: str | None = None
    aws_page: str | None = None
    note: str = ""

    def per_unit(self) -> float | None:
        return None if self.usd is None else self.usd / self.per

    def cost(self, quantity: float) -> float | None:
        """What ``quantity`` units cost, or None when the price is unknown."""
        unit_price = self.per_unit()
        return None if unit_price is None else quantity * unit_price


@dataclass(frozen=True, slots=True)
class Quota:
    key: str
    value: float | None
    source: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class PriceTable:
    """The prices of one region, the date they were read, vCPUs and quotas."""

    region: str
    retrieved: date
    prices: Mapping[str, Price]
    instance_vcpus: Mapping[str, int]
    quotas: Mapping[str, Quota]

    def price(self, key: str) -> Price:
        return _entry(self.prices, key, f"price {key!r} for {self.region}")

    def vcpus(self, instance_type: str) -> int:
        missing = f"vCPU count for {instance_type}: add it with its source"
        return _entry(self.instance_vcpus, instance_type, missing)

    def quota(self, key: str) -> Quota:
        return _entry(self.quotas, key, f"quota {key!r}")


_Entry = TypeVar("_Entry")


def _entry(table: Mapping[str, _Entry], key: str, missing: str) -> _Entry:
    """``table[key]``, or a PricesError saying the prices file has no ``missing``."""
    try:
        return table[key]
    except KeyError:
        raise PricesError(f"{PRICES_FILE.name} has no {missing}") from None


def load_prices(region: str = DEFAULT_REGION, path: Path = PRICES_FILE) -> PriceTable:
    """Read the prices of ``region``; a region the file does not cover is an error that
    says which regions it does."""
    try:
        raw: dict[str, Any] = json.loads(path.read_text())
        regions: dict[str, Any] = raw["regions"]
        if region not in regions:
            missing = raw.get("regions_not_sourced", {}).get(region, "")
            raise PricesError(
                f"no prices for region {region} (have: {', '.join(sorted(regions))})"
                + (f": {missing}" if missing else "")
            )
        prices = {key: _price(key, entry) for key, entry in regions[region].items()}
        vcpus = {name: int(entry["vcpus"]) for name, entry in raw["instance_vcpus"].items()}
        quotas = {
            key: Quota(
                key=key,
                value=None if entry["value"] is None else float(entry["value"]),
                source=str(entry["source"]),
                note=str(entry.get("note", "")),
            )
            for key, entry in raw["quotas"].items()
        }
        return PriceTable(
            region=region,
            retrieved=date.fromisoformat(raw["retrieved"]),
            prices=prices,
            instance_vcpus=vcpus,
            quotas=quotas,
        )
    except (OSError, KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, PricesError):
            raise
        raise PricesError(f"{path}: malformed prices file ({exc!r})") from exc


def _price(key: str, entry: Mapping[str, Any]) -> Price:
    usd = entry["usd"]
    if usd is not None and (not isinstance(usd, (int, float)) or usd < 0):
        raise PricesError(f"price {key}: usd must be a non-negative number or null")
    if usd is not None and not entry.get("source"):
        raise PricesError(f"price {key}: a number needs the page it came from (source)")
    return Price(
        key=key,
        usd=None if usd is None else float(usd),
        unit=str(entry["unit"]),
        per=int(entry.get("per", 1)),
        source=entry.get("source"),
        aws_page=entry.get("aws_page"),
        note=str(entry.get("note", "")),
    )
