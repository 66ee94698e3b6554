"""The cache backend: Django's Redis cache, keeping one client per connection pool.

Django's RedisCacheClient makes a new redis.Redis object for every operation (its `get_client`), and building one
fills a table of about 170 reply parsers: a tenth of a millisecond of CPU per cache call, more than the call itself
costs on a local Redis. A page reads the cache several times (its session, its shared counts and pick lists), so each
web process keeps one client per pool instead. A redis.Redis over a ConnectionPool is safe to share between threads,
and the pool opens new connections in a forked process (it checks its process id), as before.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class KeptRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class KeptClientRedisCache(RedisCache):
    """settings.CACHES' backend where REDIS_URL is set."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = KeptRedisCacheClient
