"""The Redis cache backend keeps one client per connection pool (guichet/redis_cache.py), on a real Redis."""

import threading

import pytest
import redis
from django.core.cache import caches

from tests.real_redis import use_redis_cache


@pytest.fixture
def backend(settings):
    use_redis_cache(settings)
    cache = caches["default"]
    yield cache
    cache.clear()


@pytest.fixture
def clients_built(monkeypatch):
    built = []
    original = redis.Redis.__init__

    def counting(self, *args, **kwargs):
        # A thread's name, not its ident: Python gives an ended thread's ident to the next one.
        built.append(threading.current_thread().name)
        original(self, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "__init__", counting)
    return built


def test_one_client_serves_every_command_of_a_thread(backend, clients_built):
    backend.set("a", 1)
    assert backend.add("b", 2) is True
    assert backend.add("b", 3) is False
    assert backend.get_many(["a", "b"]) == {"a": 1, "b": 2}
    assert backend.incr("a") == 2
    backend.delete("a")
    assert backend.get("a") is None
    assert len(clients_built) == 1


def test_threads_share_nothing_they_should_not(backend, clients_built):
    # Django keeps one backend object per thread, so each thread builds its own client once.
    errors = []
    # All four alive at once, so that no thread can hand its backend on to another.
    together = threading.Barrier(4, timeout=10)

    def work(number):
        try:
            together.wait()
            own = caches["default"]
            for round_ in range(20):
                own.set(f"thread-{number}", round_)
                assert own.get(f"thread-{number}") == round_
            together.wait()
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(clients_built) == len(set(clients_built)) == 4
