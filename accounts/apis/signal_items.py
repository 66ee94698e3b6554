"""A batch of posted signals checked without a serializer per item: the same rules, values and messages as
`SignalSerializer(many=True)`, at a fraction of the cost (a batch of 500 is the API's hot path).

Each value takes the shortest road that gives the serializer's answer: an id that is a plain integer in range is taken
as it is; a kind, topic or source is checked once per distinct text in the batch; a moment goes through the
serializer's own date-time field alone. Anything else (a missing or null value, a number sent as text, a value the
serializer refuses...) goes through the serializer's own field, so its value or its messages are the serializer's,
word for word. `tests/accounts/test_signal_items.py` holds the two equal on generated batches.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError
from rest_framework.fields import SkipField, empty, get_error_detail

from core.apis import MAX_ID

from ..ingest import SignalItem

fromisoformat = datetime.fromisoformat
_ABSENT = object()  # a field left out (not required): the serializer skips it


class SignalItems:
    """Checks a list of signal objects with `serializer_class`'s fields (one instance for the whole batch)."""

    _serializers: dict[type, Any] = {}  # built once per class (a model serializer's fields are costly to build)

    def __init__(self, serializer_class) -> None:
        serializer = self._serializers.get(serializer_class)
        if serializer is None:
            serializer = self._serializers[serializer_class] = serializer_class()
            serializer.fields  # noqa: B018  (built and bound here, once)
        self.serializer = serializer
        self.fields = serializer.fields
        self._texts: dict[tuple[str, str], tuple[Any, list | None]] = {}
        moment = self.fields["occurred_at"]
        # The zone the serializer takes moments to (the current one), looked up once for the batch.
        self._zone = moment.timezone if hasattr(moment, "timezone") else moment.default_timezone()

    def _field(self, name: str, raw: Any) -> tuple[Any, list | None]:
        """(value, None), (_ABSENT, None) or (None, messages): what the serializer makes of `raw` for `name`."""
        field = self.fields[name]
        try:
            value = field.run_validation(raw)
            validate = getattr(self.serializer, f"validate_{name}", None)
            if validate is not None:
                value = validate(value)
        except SkipField:
            return _ABSENT, None
        except ValidationError as exc:
            return None, exc.detail
        except DjangoValidationError as exc:
            return None, get_error_detail(exc)
        return value, None

    def _text(self, name: str, raw: Any) -> tuple[Any, list | None]:
        if type(raw) is not str:
            return self._field(name, raw)
        key = (name, raw)
        found = self._texts.get(key)
        if found is None:
            found = self._texts[key] = self._field(name, raw)
        return found

    def _external_id(self, raw: Any) -> tuple[Any, list | None]:
        # Plain ASCII without NUL within the length: the serializer would only trim it.
        if type(raw) is str and raw.isascii() and "\x00" not in raw:
            value = raw.strip()
            if len(value) <= 255:
                return value, None
        elif raw is None:
            return None, None
        return self._field("external_id", raw)

    def check(self, items: list[dict]) -> tuple[list[SignalItem], list[dict]]:
        """(the items checked, []) or ([], the errors in the batch shape: one entry per message)."""
        checked: list[SignalItem] = []
        errors: list[dict] = []
        zone = self._zone
        for index, item in enumerate(items):
            problems: list[tuple[str, list]] = []  # (field, messages), as the serializer orders them

            account = item.get("account", empty)
            if type(account) is not int or not 0 < account <= MAX_ID:
                account, found = self._field("account", account)
                if found:
                    problems.append(("account", found))

            contact = item.get("contact", _ABSENT)
            if not (contact is _ABSENT or contact is None or (type(contact) is int and 0 < contact <= MAX_ID)):
                contact, found = self._field("contact", contact)
                if found:
                    problems.append(("contact", found))

            kind, found = self._text("kind", item.get("kind", empty))
            if found:
                problems.append(("kind", found))
            topic, found = self._text("topic", item.get("topic", empty))
            if found:
                problems.append(("topic", found))

            occurred_at = item.get("occurred_at", empty)
            try:
                # What the serializer does with ISO 8601 text that names its offset: Django's parse_datetime reads
                # it with fromisoformat first, then the moment is taken to the zone.
                moment = fromisoformat(occurred_at)
                if moment.tzinfo is None or zone is None:
                    raise ValueError
                occurred_at = moment.astimezone(zone)
            except (TypeError, ValueError, OverflowError):
                occurred_at, found = self._field("occurred_at", occurred_at)
                if found:
                    problems.append(("occurred_at", found))

            source, found = self._text("source", item.get("source", empty))
            if found:
                problems.append(("source", found))
            external_id = item.get("external_id", _ABSENT)
            if external_id is not _ABSENT:
                external_id, found = self._external_id(external_id)
                if found:
                    problems.append(("external_id", found))

            if problems:
                errors.extend(
                    {"index": index, "field": name, "detail": str(message)}
                    for name, found in problems
                    for message in (found if isinstance(found, list) else [found])
                )
                continue
            if not errors:
                checked.append(
                    SignalItem(
                        account,
                        None if contact is _ABSENT else contact,
                        kind,
                        None if topic is _ABSENT else topic,
                        occurred_at,
                        None if source is _ABSENT else source,
                        None if external_id is _ABSENT else external_id,
                    )
                )
        return ([], errors) if errors else (checked, [])
