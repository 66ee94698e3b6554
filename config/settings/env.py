"""Read configuration from the environment, failing loudly on bad values."""

import os

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None, *, required: bool = False) -> str | None:
    value = os.environ.get(name)
    if value is None or value == "":
        if required:
            raise ImproperlyConfigured(f"The environment variable {name} must be set.")
        return default
    return value


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: use one of 1/0, true/false, yes/no, on/off.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}.")
    return number


def env_float(name: str, default: float, *, minimum: float, maximum: float) -> float:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number.") from None
    if not minimum <= number <= maximum:
        raise ImproperlyConfigured(f"{name}={number} must be between {minimum} and {maximum}.")
    return number


def env_choice(name: str, default: str, choices: list[str]) -> str:
    value = (os.environ.get(name) or default).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} is not one of: {', '.join(choices)}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_database(name: str, default: str) -> dict:
    """Parse a database URL (postgres://... or sqlite:///...), with the connection options of the environment:

    - DB_CONN_MAX_AGE: seconds a connection is kept between requests (0: one per request);
    - DB_CONN_HEALTH_CHECKS: a kept connection is checked before reuse (on by default);
    - DB_POOL=true: a psycopg connection pool in each process (PostgreSQL; instead of DB_CONN_MAX_AGE), sized by
      DB_POOL_MIN_SIZE / DB_POOL_MAX_SIZE;
    - DB_PGBOUNCER=true: behind PgBouncer in transaction mode, where a connection changes between transactions: no
      server-side cursors (they live across transactions).
    """
    import dj_database_url

    url = env_str(name, default)
    if not url.startswith(("postgres://", "postgresql://", "sqlite://")):
        raise ImproperlyConfigured(
            f"{name}={url!r} is not supported: use postgres://user@host:port/name or sqlite:///path."
        )
    max_age = env_int("DB_CONN_MAX_AGE", 0, minimum=0)
    try:
        config = dj_database_url.parse(
            url, conn_max_age=max_age, conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", True)
        )
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} could not be parsed: {exc}") from None
    if not config.get("NAME"):
        raise ImproperlyConfigured(f"{name}={url!r} names no database.")
    postgres = config["ENGINE"] == "django.db.backends.postgresql"
    if env_bool("DB_POOL", False):
        if not postgres:
            raise ImproperlyConfigured("DB_POOL needs PostgreSQL (DATABASE_URL=postgres://...).")
        if max_age:
            raise ImproperlyConfigured("DB_POOL and DB_CONN_MAX_AGE exclude each other: the pool keeps connections.")
        low = env_int("DB_POOL_MIN_SIZE", 2, minimum=0)
        high = env_int("DB_POOL_MAX_SIZE", 10, minimum=1)
        if high < low:
            raise ImproperlyConfigured(f"DB_POOL_MAX_SIZE={high} must be at least DB_POOL_MIN_SIZE={low}.")
        config.setdefault("OPTIONS", {})["pool"] = {"min_size": low, "max_size": high, "timeout": 10}
    if env_bool("DB_PGBOUNCER", False):
        if not postgres:
            raise ImproperlyConfigured("DB_PGBOUNCER needs PostgreSQL (DATABASE_URL=postgres://...).")
        config["DISABLE_SERVER_SIDE_CURSORS"] = True
    return config


def env_redis(name: str) -> str | None:
    url = env_str(name)
    if url is not None and not url.startswith(("redis://", "rediss://")):
        raise ImproperlyConfigured(f"{name}={url!r} is not a redis:// or rediss:// URL.")
    return url
