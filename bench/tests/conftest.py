"""The benchmarks' self-checks use the exchange tests' fixtures (an uploading company)."""

from yunzheng.exchange.tests.conftest import _fresh_subscriber_cache, uploader

__all__ = ["_fresh_subscriber_cache", "uploader"]
