"""Exactly one beat sends the schedule (core/beat.py): a second beat waits, takes over when the first stops or is
lost, and does not send again what the first already sent."""

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
from celery import Celery

from core.beat import SingleBeatScheduler

from ..conftest import require_redis
from ..workers import ROOT, wait_for

HOUR = 3600.0

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_url():
    require_redis()
    return os.environ["REDIS_URL"]


@pytest.fixture
def beats(redis_url, tmp_path, settings):
    """Build beats sharing one lock (keys of their own), each sending into a list instead of the broker."""
    settings.BEAT_LOCK_SECONDS = 3
    prefix = f"test:beat:{uuid.uuid4().hex}"
    app = Celery("probe", broker=redis_url, set_as_current=False)  # the project app stays current for later tests
    app.conf.result_expires = None  # no result backend to clean
    app.conf.beat_schedule = {
        "hourly": {"task": "probe.hourly", "schedule": HOUR},
        "nightly": {"task": "probe.nightly", "schedule": 24 * HOUR},
    }
    made = []

    class Recording(SingleBeatScheduler):
        lock_key, ticked_key = f"{prefix}:holder", f"{prefix}:ticked"

        def __init__(self, *args, **kwargs):
            self.sent = []
            super().__init__(*args, **kwargs)

        def apply_async(self, entry, producer=None, advance=True, **kwargs):
            self.sent.append(entry.name)

        def run(self, ticks: int = 5) -> list[str]:
            """What this beat sends in a few ticks."""
            before = len(self.sent)
            for _ in range(ticks):
                self.tick()
            return self.sent[before:]

    def make(name: str, *, last_run: dt.datetime | None = None) -> Recording:
        beat = Recording(app=app, schedule_filename=str(tmp_path / name))
        if last_run is not None:  # its own record says every entry last ran then
            for entry in beat.schedule.values():
                entry.last_run_at = last_run
        made.append(beat)
        return beat

    yield make
    for beat in made:
        beat.close()
    app.close()


def long_ago() -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(days=2)


def test_a_second_beat_sends_nothing_while_the_first_runs(beats):
    first, second = beats("first", last_run=long_ago()), beats("second", last_run=long_ago())
    assert sorted(first.run()) == ["hourly", "nightly"]  # both were due
    assert second.run() == []
    assert first.holding and not second.holding
    assert first.run() == []  # sent once, not again
    # Between two of the first beat's ticks the entries fall due again (here: its last tick was two hours ago).
    # The second beat ticks first: it still waits; the first sends them.
    second.redis.set(first.ticked_key, (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).timestamp())
    for beat in (first, second):
        for entry in beat.schedule.values():
            entry.last_run_at = long_ago()
        beat._heap = None
    assert second.run() == []
    assert sorted(first.run()) == ["hourly", "nightly"]


def test_when_the_first_stops_the_second_takes_over_without_sending_again(beats):
    first, second = beats("first", last_run=long_ago()), beats("second", last_run=long_ago())
    first.run()
    second.run()  # waits, and takes the first's last tick as its own last run
    first.close()  # a beat stopping hands over at once
    assert second.run() == []  # nothing fell due since the first's last tick: no second nightly run
    assert second.holding


def test_a_lost_beat_is_replaced_once_its_lock_expires(beats, settings):
    first, second = beats("first", last_run=long_ago()), beats("second", last_run=long_ago())
    first.run()
    # The first beat's machine is lost: it neither renews nor releases the lock.
    assert second.run() == [] and not second.holding
    time.sleep(settings.BEAT_LOCK_SECONDS + 0.5)
    assert second.run() == []
    assert second.holding
    # What falls due later is sent by the second only.
    for beat in (first, second):
        for entry in beat.schedule.values():
            entry.last_run_at = long_ago()
        beat._heap = None
    assert sorted(second.run()) == ["hourly", "nightly"]
    assert first.run() == []  # back, it finds the lock held and waits
    assert not first.holding


def test_entries_missed_between_the_old_holders_last_tick_and_the_takeover_are_sent(beats):
    first, second = beats("first", last_run=long_ago()), beats("second", last_run=long_ago())
    first.run()
    second.run()
    # The first beat's last tick was 25 hours ago (then it was lost, and its lock expired).
    second.redis.set(first.ticked_key, (dt.datetime.now(dt.UTC) - dt.timedelta(hours=25)).timestamp())
    second.redis.delete(first.lock_key)
    assert sorted(second.run()) == ["hourly", "nightly"]  # takes the lock, sends what fell due since
    assert second.holding


@pytest.mark.worker
def test_two_real_beats_one_runs_the_schedule_the_other_takes_over_when_it_is_killed(redis_url, tmp_path):
    # A Redis database of its own: what the beat sends must not reach the other tests' workers.
    parts = urlsplit(redis_url)
    own = urlunsplit(parts._replace(path="/13"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "REDIS_URL": own, "BEAT_LOCK_SECONDS": "3"}
    logs = [tmp_path / "beat1.log", tmp_path / "beat2.log"]

    def start(n: int) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "info",
             "--schedule", str(tmp_path / f"schedule{n}")],
            cwd=ROOT, env=env, stdout=logs[n].open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip

    import redis

    redis.Redis.from_url(own).flushdb()
    processes = [start(0)]
    try:
        wait_for(lambda: "runs the schedule" in logs[0].read_text(), 60)
        processes.append(start(1))
        wait_for(lambda: "waits while beat" in logs[1].read_text(), 60)
        time.sleep(2)
        assert "runs the schedule" not in logs[1].read_text()
        processes[0].send_signal(signal.SIGKILL)  # lost, not stopped: its lock has to expire
        processes[0].wait(timeout=10)
        wait_for(lambda: "runs the schedule" in logs[1].read_text(), 30)
        holder = re.search(r"beat (\S+) runs the schedule", logs[1].read_text()).group(1)
        assert redis.Redis.from_url(own).get("revops:beat:holder").decode() == holder
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        redis.Redis.from_url(own).flushdb()
