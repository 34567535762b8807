"""Reading the Prometheus text format a scrape returns."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def sample(text: str, name: str, **labels: str) -> float:
    """The value of sample `name` with (at least) `labels`, 0 when absent
    (a labelled series appears only once it has counted something)."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                total += found.value
    return total


def has_series(text: str, name: str) -> bool:
    return any(
        found.name == name
        for family in text_string_to_metric_families(text)
        for found in family.samples
    )
