"""The Redis cache keeps one client per connection pool (core/cache.py): Django's own builds a new redis.Redis, with
its table of reply parsers, for every call."""

import os
import threading

import pytest
from django.conf import settings
from django.core.cache.backends.redis import RedisCacheClient

from core.cache import KeptClientRedisCache
from tests.conftest import require_redis

pytestmark = pytest.mark.redis


def redis_cache(prefix: str) -> KeptClientRedisCache:
    require_redis()
    return KeptClientRedisCache(os.environ["REDIS_URL"], {"KEY_PREFIX": prefix})


def test_every_call_uses_the_same_client_and_the_values_round_trip():
    cache = redis_cache(f"kept-{os.getpid()}")
    assert settings.CACHES["default"]["BACKEND"] == "core.cache.KeptClientRedisCache"  # what the site runs on
    client = cache._cache.get_client()
    assert cache._cache.get_client(write=True) is client
    cache.set("answer", {"n": 42}, 30)
    assert cache.get("answer") == {"n": 42}
    assert cache.get_many(["answer", "missing"]) == {"answer": {"n": 42}}
    assert cache.add("answer", 1, 30) is False
    cache.delete("answer")
    assert cache.get("answer") is None
    assert cache._cache.get_client() is client
    # Django's own client class would have made a new one per call: the kept one is what the backend uses.
    assert isinstance(cache._cache, RedisCacheClient) and type(cache._cache) is not RedisCacheClient


def test_threads_share_the_client_without_mixing_their_replies():
    cache = redis_cache(f"kept-threads-{os.getpid()}")
    wrong = []

    def work(n: int) -> None:
        for i in range(200):
            cache.set(f"t{n}-{i}", (n, i), 30)
            if cache.get(f"t{n}-{i}") != (n, i):
                wrong.append((n, i))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
