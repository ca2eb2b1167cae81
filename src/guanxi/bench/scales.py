"""Benchmark scales: how many customers, interactions and orders each data set has."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    customers: int
    interactions: int
    orders: int
    salespeople: int = 100
    engines: tuple[str, ...] = ("sqlite", "postgresql")

    def describe(self) -> str:
        return f"{self.customers:,} customers / {self.interactions:,} interactions / {self.orders:,} orders"


SCALES: dict[str, Scale] = {
    "small": Scale("small", 10_000, 100_000, 50_000),
    "medium": Scale("medium", 100_000, 1_000_000, 500_000),
    "large": Scale("large", 1_000_000, 10_000_000, 5_000_000, engines=("postgresql",)),
}
# For tests only: never part of `guanxi bench` unless asked for by name.
TINY = Scale("tiny", 300, 3_000, 1_500, salespeople=6)
ENGINES = ("sqlite", "postgresql")


def get_scale(name: str) -> Scale:
    if name == "tiny":
        return TINY
    try:
        return SCALES[name]
    except KeyError:
        raise ValueError(f"unknown scale {name!r} (known: {', '.join(SCALES)}, tiny)") from None
