"""Budgets are written the way people write disk sizes."""

from __future__ import annotations

import pytest

from musark.plan.sizes import format_size, parse_size


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("300TB", 300 * 10**12),
        ("300 tb", 300 * 10**12),
        ("1.5GB", 1_500_000_000),
        ("2MB", 2_000_000),
        ("1TiB", 2**40),
        ("2.5 GiB", int(2.5 * 2**30)),
        ("12345", 12345),
        ("10B", 10),
        ("7KiB", 7 * 1024),
    ],
)
def test_parse_size_decimal_and_binary_units(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "TB", "12 XB", "-5GB", "1,5GB", "1e3GB"])
def test_parse_size_rejects_garbage_with_the_input_in_the_message(text):
    with pytest.raises(ValueError, match="invalid size"):
        parse_size(text)


def test_format_size_is_decimal():
    assert format_size(300 * 10**12) == "300.00 TB"
    assert format_size(999) == "999 B"
