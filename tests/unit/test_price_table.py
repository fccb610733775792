"""A PriceTable lookup the prices file cannot answer says what is missing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from datapalooza.planning.prices import PricesError, PriceTable, load_prices


@pytest.mark.parametrize(
    ("lookup", "message"),
    [
        (lambda table: table.price("no-such-price"), "has no price 'no-such-price' for us-east-1"),
        (lambda table: table.vcpus("ml.z9.huge"), "has no vCPU count for ml.z9.huge: add it"),
        (lambda table: table.quota("no-such-quota"), "has no quota 'no-such-quota'"),
    ],
)
def test_a_missing_entry_names_the_file_and_what_it_lacks(
    lookup: Callable[[PriceTable], object], message: str
) -> None:
    table = load_prices("us-east-1")

    with pytest.raises(PricesError, match=f"^prices.json {message}"):
        lookup(table)
