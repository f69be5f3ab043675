"""The host sample is a typed record; its JSON is what the stats message and `shelf-node status` carry."""

from __future__ import annotations

import dataclasses

import pytest

from edge.mqtt.host_stats import HostSample, HostStats


def test_a_sample_is_a_frozen_record_with_the_stats_keys() -> None:
    stats = HostStats()
    sum(i * i for i in range(200_000))  # some CPU, so the second sample has a percentage
    sample = stats.sample()
    assert isinstance(sample, HostSample)
    assert list(sample.to_json()) == ["cpu_percent", "rss_bytes", "temperature_c"]
    assert sample.rss_bytes is not None and sample.rss_bytes > 0
    assert sample.cpu_percent is not None and sample.cpu_percent >= 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        sample.cpu_percent = 1.0  # type: ignore[misc]
