"""Resolving references in a row (an account, contact, user or territory) in batches, not one query per row."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db.models import Q
from django.db.models.functions import Lower

from core.services import username_from_name

from ..models import Account, Contact, territory_model
from .fields import DOMAIN_RE, normalise_domain


class Unresolved(str):
    """The reason a reference could not be resolved."""


def resolve_accounts(refs: Iterable[str | int]) -> dict[str | int, int | Unresolved]:
    """An account is referred to by id (from the API), external_id, domain, or exact name (when unique)."""
    ids = {r for r in refs if isinstance(r, int)}
    texts = {r for r in refs if isinstance(r, str)}
    found: dict[str | int, int | Unresolved] = {}
    if ids:
        existing = set(Account.objects.filter(pk__in=ids).values_list("pk", flat=True))
        for ref in ids:
            found[ref] = ref if ref in existing else Unresolved(f"account {ref} does not exist")
    if not texts:
        return found
    domains = {normalise_domain(t): t for t in texts if DOMAIN_RE.match(normalise_domain(t))}
    by_external: dict[str, int] = {}
    by_domain: dict[str, int] = {}
    by_name: dict[str, list[int]] = defaultdict(list)
    rows = Account.objects.filter(
        Q(external_id__in=texts) | Q(domain__in=list(domains)) | Q(name__in=texts)
    ).values_list("pk", "external_id", "domain", "name")
    for pk, external_id, dom, name in rows:
        if external_id in texts:
            by_external[external_id] = pk
        if dom in domains:
            by_domain[domains[dom]] = pk
        if name in texts:
            by_name[name].append(pk)
    for ref in texts:
        if ref in by_external:
            found[ref] = by_external[ref]
        elif ref in by_domain:
            found[ref] = by_domain[ref]
        elif len(by_name.get(ref, ())) == 1:
            found[ref] = by_name[ref][0]
        elif len(by_name.get(ref, ())) > 1:
            found[ref] = Unresolved(f"account {ref!r} is ambiguous: {len(by_name[ref])} accounts have that name")
        else:
            found[ref] = Unresolved(f"account {ref!r} not found (by external_id, domain or name)")
    return found


def resolve_contacts(pairs: Iterable[tuple[int, str | int]]) -> dict[tuple[int, str | int], int | Unresolved]:
    """A contact is referred to by id, external_id, or email within its account."""
    pairs = set(pairs)
    found: dict[tuple[int, str | int], int | Unresolved] = {}
    if not pairs:
        return found
    ids = {ref for _, ref in pairs if isinstance(ref, int)}
    texts = {ref for _, ref in pairs if isinstance(ref, str)}
    rows = Contact.objects.filter(
        Q(pk__in=ids) | Q(external_id__in=texts) | Q(email__in={t.lower() for t in texts})
    ).values_list("pk", "account_id", "external_id", "email")
    index: dict[tuple[int, str | int], int] = {}
    for pk, account_id, external_id, email in rows:
        index[(account_id, pk)] = pk
        if external_id:
            index[(account_id, external_id)] = pk
        if email:
            index[(account_id, email)] = pk
    for account_id, ref in pairs:
        key = (account_id, ref.lower() if isinstance(ref, str) and "@" in ref else ref)
        found[(account_id, ref)] = index.get(key) or Unresolved(f"contact {ref!r} not found on this account")
    return found


def resolve_users(refs: Iterable[str]) -> dict[str, int | Unresolved]:
    """A user is referred to by username, or by full name (the username an import derives from it)."""
    refs = set(refs)
    candidates = {ref: {ref, ref.lower(), username_from_name(ref)} for ref in refs}
    names = set().union(*candidates.values()) if candidates else set()
    existing = dict(User.objects.filter(username__in=names).values_list("username", "pk"))
    found: dict[str, int | Unresolved] = {}
    for ref in candidates:
        match = next((existing[o] for o in (ref, ref.lower(), username_from_name(ref)) if o in existing), None)
        found[ref] = match or Unresolved(f"user {ref!r} not found")
    return found


def resolve_territories(refs: Iterable[str]) -> dict[str, int | Unresolved]:
    """A territory is referred to by its name, in any case."""
    refs = set(refs)
    territories = territory_model()._default_manager
    existing = dict(
        territories.annotate(lname=Lower("name")).filter(lname__in={r.lower() for r in refs}).values_list("lname", "pk")
    )
    return {r: existing.get(r.lower()) or Unresolved(f"territory {r!r} not found") for r in refs}
