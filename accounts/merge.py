"""Merging one account (the loser) into another (the survivor): nothing that points at the loser is lost.

Every relation to Account is walked from Django's model metadata (`Account._meta.related_objects`), so the tables of
the apps above this one (scores, tier history, MQAs, handoffs, ownership changes...) move too without this app
naming them. Each row that points at the loser is repointed at the survivor, except where a unique rule says the
survivor already holds its equivalent:

- a one-to-one row (a score, a spend potential): the survivor's is kept and the loser's dropped ("replaced"): the
  survivor is rescored once merged;
- a row unique with its account (a contact's e-mail, an open MQA): it is merged into the survivor's equivalent row
  (what points at it moves there, recursively) and counted as "merged", not lost;
- a signal without a dedupe key that both accounts hold (same kind, time, topic and contact): kept once, "merged".

The survivor's blank fields are filled from the loser's, technologies and attributes are united; the merge is
recorded (AccountMerge, audited) and the survivor queued for rescoring.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q

from .changes import accounts_changed, owners_changed, won_deals_changed
from .events import owner_changes_record
from .models import Account, AccountMerge, DuplicateCandidate, Signal

FILLED_FIELDS = (
    "domain", "external_id", "industry", "employee_count", "annual_revenue", "country", "region", "city",
    "year_founded", "parent", "owner", "territory",
)  # fmt: skip
# Relations that are not the account's data: handled by the merge itself.
SKIPPED = {(DuplicateCandidate, "account_a"), (DuplicateCandidate, "account_b")}


@dataclass
class MergeCounts:
    moved: Counter = field(default_factory=Counter)  # label -> rows repointed at the survivor
    merged: Counter = field(default_factory=Counter)  # label -> rows folded into the survivor's equivalent
    replaced: Counter = field(default_factory=Counter)  # label -> the loser's one-to-one rows, the survivor's kept

    def as_dict(self) -> dict:
        labels = sorted(set(self.moved) | set(self.merged) | set(self.replaced))
        return {
            label: {"moved": self.moved[label], "merged": self.merged[label], "replaced": self.replaced[label]}
            for label in labels
        }


def _label(model) -> str:
    """What a page calls rows of `model`: its plural name; for the table behind a many-to-many relation, the model
    that holds it and the relation ("territories (named accounts)")."""
    if model._meta.auto_created:
        holder = model._meta.auto_created
        for f in holder._meta.many_to_many:
            if f.remote_field.through is model:
                return f"{holder._meta.verbose_name_plural} ({f.verbose_name})"
    return str(model._meta.verbose_name_plural)


def _relations(model) -> list[tuple[type[models.Model], models.Field]]:
    """(model, field) of every foreign key or one-to-one that points at `model`, and the through tables of its
    many-to-many relations."""
    found = []
    for rel in model._meta.related_objects:
        if rel.many_to_many:
            through = rel.through
            for f in through._meta.fields:
                if f.is_relation and f.related_model is model:
                    found.append((through, f))
        else:
            found.append((rel.related_model, rel.field))
    return [(m, f) for m, f in found if (m, f.name) not in SKIPPED]


def _unique_sets(model, field_name: str) -> list[tuple[list[str], Q | None]]:
    """The unique rules of `model` that involve `field_name`: (the other fields, the rule's condition)."""
    sets = []
    for constraint in model._meta.constraints:
        fields = list(getattr(constraint, "fields", ()) or ())
        if isinstance(constraint, models.UniqueConstraint) and field_name in fields:
            sets.append(([f for f in fields if f != field_name], constraint.condition))
    for together in model._meta.unique_together:
        if field_name in together:
            sets.append(([f for f in together if f != field_name], None))
    return sets


def _attname(model, name: str) -> str:
    return model._meta.get_field(name).attname


def _twin(model, f: models.Field, row, target) -> models.Model | None:
    """The row of `target` that `row` would collide with under one of the model's unique rules, if any."""
    for others, condition in _unique_sets(model, f.name):
        if condition is not None and not model._default_manager.filter(condition, pk=row.pk).exists():
            continue
        values = {_attname(model, o): getattr(row, _attname(model, o)) for o in others}
        if any(v is None for v in values.values()):
            continue  # NULLs never collide
        twins = model._default_manager.filter(**{f.attname: target.pk}, **values).exclude(pk=row.pk)
        if condition is not None:
            twins = twins.filter(condition)
        twin = twins.first()
        if twin is not None:
            return twin
    return None


def _fold_into(model, loser_row, survivor_row, counts: MergeCounts, depth: int) -> None:
    """Repoint what points at `loser_row` to `survivor_row` (the same rules, one level down), then delete it."""
    if depth > 5:
        raise ValidationError("These records are linked too deeply to merge safely.")
    _repoint(model, loser_row, survivor_row, counts, depth + 1)
    loser_row.delete()


def _repoint(model, loser, survivor, counts: MergeCounts, depth: int = 0) -> None:
    """Point every row that points at `loser` at `survivor`. Rows moved below the account itself (a contact's
    signals) are not counted again: they are counted where they belong, with the account's own rows."""
    moved = counts.moved if depth == 0 else Counter()
    for related, f in _relations(model):
        if related is model and f.name == "parent":
            continue  # the account's own parent link: handled by account_merge
        rows = related._default_manager.filter(**{f.attname: loser.pk})
        label = _label(related)
        if f.one_to_one:
            row = rows.first()
            if row is None:
                continue
            twin = related._default_manager.filter(**{f.attname: survivor.pk}).first()
            if twin is None:
                rows.update(**{f.attname: survivor.pk})
                moved[label] += 1
            else:
                _fold_into(related, row, twin, counts, depth)
                counts.replaced[label] += 1
            continue
        if not _unique_sets(related, f.name):
            updated = rows.update(**{f.attname: survivor.pk})
            if updated:
                moved[label] += updated
            continue
        for row in list(rows):
            twin = _twin(related, f, row, survivor)
            if twin is None:
                setattr(row, f.attname, survivor.pk)
                row.save(update_fields=[f.name])
                moved[label] += 1
            else:
                _fold_into(related, row, twin, counts, depth)
                counts.merged[label] += 1


def _signals_dedupe(*, survivor: Account, moved_ids: set[int], counts: MergeCounts) -> None:
    """Keyless signals the survivor now holds twice (one from each account): keep the survivor's."""
    if not moved_ids:
        return
    natural = ("kind", "occurred_at", "topic", "contact_id")
    kept: dict[tuple, int] = {}
    drop: list[int] = []
    rows = Signal.objects.filter(account=survivor, external_id__isnull=True).order_by("id").values_list("id", *natural)
    for pk, *key in rows:
        key = tuple(key)
        if key not in kept:
            kept[key] = pk
        elif pk in moved_ids and kept[key] not in moved_ids:
            drop.append(pk)
    if drop:
        Signal.objects.filter(pk__in=drop).delete()
        label = _label(Signal)
        counts.moved[label] -= len(drop)
        counts.merged[label] += len(drop)


def merge_preview(*, survivor: Account, loser: Account) -> list[tuple[str, int]]:
    """What would move from the loser to the survivor, by kind of record (label, rows), largest first."""
    found = []
    for related, f in _relations(Account):
        label = "subsidiaries" if related is Account and f.name == "parent" else _label(related)
        rows = related._default_manager.filter(**{f.attname: loser.pk}).count()
        if rows:
            found.append((label, rows))
    return sorted(found, key=lambda item: (-item[1], item[0]))


def _fill(survivor: Account, loser: Account) -> list[str]:
    changed = []
    for name in FILLED_FIELDS:
        attname = Account._meta.get_field(name).attname
        if getattr(survivor, attname) in (None, "") and getattr(loser, attname) not in (None, ""):
            if name == "parent" and loser.parent_id == survivor.pk:
                continue
            setattr(survivor, attname, getattr(loser, attname))
            changed.append(name)
    technologies = list(survivor.technologies or [])
    for tech in loser.technologies or []:
        if tech not in technologies:
            technologies.append(tech)
    if technologies != list(survivor.technologies or []):
        survivor.technologies = technologies
        changed.append("technologies")
    attributes = {**(loser.attributes or {}), **(survivor.attributes or {})}
    if attributes != (survivor.attributes or {}):
        survivor.attributes = attributes
        changed.append("attributes")
    if loser.is_customer and not survivor.is_customer:
        survivor.is_customer = True
        changed.append("is_customer")
    return changed


@transaction.atomic
def account_merge(*, survivor: Account, loser: Account, by) -> AccountMerge:
    """Merge `loser` into `survivor` (see the module's docstring); returns the merge's record."""
    if survivor.pk == loser.pk:
        raise ValidationError("An account cannot be merged into itself.")
    locked = {a.pk: a for a in Account.objects.select_for_update().filter(pk__in=[survivor.pk, loser.pk])}
    if len(locked) != 2:
        raise ValidationError("One of these accounts no longer exists: it may have been merged already.")
    survivor, loser = locked[survivor.pk], locked[loser.pk]
    counts = MergeCounts()
    DuplicateCandidate.objects.filter(Q(account_a=loser) | Q(account_b=loser)).delete()
    moved_signals = set(Signal.objects.filter(account=loser, external_id__isnull=True).values_list("pk", flat=True))
    # The loser's subsidiaries become the survivor's; the survivor never becomes its own parent.
    subsidiaries = Account.objects.filter(parent=loser).exclude(pk=survivor.pk).update(parent=survivor)
    if subsidiaries:
        counts.moved["subsidiaries"] += subsidiaries
    if survivor.parent_id == loser.pk:
        survivor.parent = loser.parent if loser.parent_id != survivor.pk else None
        survivor.save(update_fields=["parent", "updated_at"])
    _repoint(Account, loser, survivor, counts)
    _signals_dedupe(survivor=survivor, moved_ids=moved_signals, counts=counts)
    owner_before = survivor.owner_id
    changed = _fill(survivor, loser)
    record = AccountMerge(
        survivor=survivor,
        survivor_name=survivor.name,
        merged_account_id=loser.pk,
        merged_name=loser.name,
        merged_domain=loser.domain or "",
        merged_external_id=loser.external_id or "",
        moved=counts.as_dict(),
        merged_by=by,
    )
    record._history_user = by  # the audit trail's "who", outside a request too
    # The loser goes first: its domain and account ID are unique, and may pass to the survivor.
    loser_id = loser.pk
    loser.delete()
    if changed:
        survivor.save(update_fields=[*changed, "updated_at"])
    record.save()
    accounts_changed([survivor.pk], route=survivor.territory_id is None)
    if survivor.owner_id != owner_before:
        owners_changed([survivor.pk])
        owner_changes_record(
            [(survivor.pk, owner_before, f"merged with {record.merged_name}")], actor_id=getattr(by, "pk", None)
        )
    from .models import Opportunity, PendingLookalike, PendingOwnerChange, PendingRescore, PendingRoute

    for queue in (PendingRescore, PendingRoute, PendingOwnerChange, PendingLookalike):
        queue.objects.filter(account_id=loser_id).delete()
    if Opportunity.objects.filter(account=survivor, is_won=True).exists():
        won_deals_changed([survivor.pk])  # the won accounts are one fewer: lookalike scores are refreshed
    return record
