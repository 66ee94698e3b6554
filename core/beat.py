"""Exactly one beat runs the schedule, however many are started (a second machine, a deploy overlapping the old one).

Every beat uses this scheduler (CELERY_BEAT_SCHEDULER). Each tick, a beat takes or renews a lock in Redis that expires
after settings.BEAT_LOCK_SECONDS; only its holder sends the scheduled tasks. The others wait, and the first to find
the lock expired (its holder stopped or lost) takes over, within BEAT_LOCK_SECONDS.

The holder also records when it last ticked; a waiting beat takes that as its own last run of every entry, so when
it takes over it sends what fell due since the old holder's last tick, not what the old holder already sent (no
second nightly rescore).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid

from celery.beat import PersistentScheduler

log = logging.getLogger(__name__)

LOCK_KEY = "revops:beat:holder"
TICKED_KEY = "revops:beat:ticked"
# Renew the lock (and the tick time) only if this beat still holds it.
RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('pexpire', KEYS[1], ARGV[2])
  redis.call('set', KEYS[2], ARGV[3])
  return 1
end
return 0
"""
RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class SingleBeatScheduler(PersistentScheduler):
    lock_key, ticked_key = LOCK_KEY, TICKED_KEY

    def __init__(self, *args, **kwargs):
        from django.conf import settings

        self.lock_seconds = settings.BEAT_LOCK_SECONDS
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.holding = False
        self.waiting_logged = False
        super().__init__(*args, **kwargs)
        url = str(self.app.conf.broker_url or "")
        if url.startswith(("redis://", "rediss://")):
            import redis

            self.redis = redis.Redis.from_url(url)
        else:  # no shared broker (tasks run in-process): there is nothing to share the schedule with
            self.redis = None

    def tick(self, *args, **kwargs) -> float:
        if self.redis is None:
            return super().tick(*args, **kwargs)
        if not self.hold():
            return self.lock_seconds / 3
        return min(super().tick(*args, **kwargs), self.lock_seconds / 3)

    def hold(self) -> bool:
        """Take or renew the lock; True while this beat holds it."""
        import redis

        now = dt.datetime.now(dt.UTC).timestamp()
        ttl_ms = int(self.lock_seconds * 1000)
        try:
            if self.holding and self.redis.eval(RENEW, 2, self.lock_key, self.ticked_key, self.name, ttl_ms, now):
                return True
            if self.holding:
                log.warning("beat %s lost the schedule lock: another beat runs the schedule now", self.name)
                self.holding = False
            if self.redis.set(self.lock_key, self.name, nx=True, px=ttl_ms):
                self.catch_up()  # from the previous holder's last tick
                self.redis.set(self.ticked_key, now)
                self.holding, self.waiting_logged = True, False
                self._heap = None  # the due times are worked out again from the last runs set while waiting
                log.info("beat %s runs the schedule", self.name)
                return True
            self.follow()
        except redis.RedisError as exc:
            self.holding = False
            log.warning("beat %s cannot reach Redis (%s): not sending scheduled tasks", self.name, exc)
        return False

    def follow(self) -> None:
        """Another beat holds the lock: wait, keeping its last tick as this beat's last run of every entry."""
        holder = self.redis.get(self.lock_key)
        if not self.waiting_logged:
            log.info("beat %s waits while beat %s holds the schedule", self.name, (holder or b"?").decode())
            self.waiting_logged = True
        self.catch_up()

    def catch_up(self) -> None:
        """Take the holder's last tick as this beat's last run of every entry."""
        ticked = self.redis.get(self.ticked_key)
        if ticked is None:
            return
        moment = dt.datetime.fromtimestamp(float(ticked), dt.UTC)
        for entry in self.schedule.values():
            entry.last_run_at = moment

    def close(self) -> None:
        if self.redis is not None and self.holding:
            try:
                self.redis.eval(RELEASE, 1, self.lock_key, self.name)  # a beat stopping hands over at once
            except Exception:  # noqa: BLE001  # nosec B110  # stopping anyway; the lock expires by itself
                log.warning("beat %s could not release the schedule lock; it expires by itself", self.name)
            self.holding = False
        super().close()
