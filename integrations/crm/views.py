"""The CRM pages, for admins: connections (add, edit, delete), each object's field mapping, "Sync now", the runs
with their progress, and the first push's changes to confirm."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.decorators import admin_only
from core.models import Job

from ..models import CrmConnection
from ..models.crm import OBJECT_CHOICES
from . import mapping as m
from .adapter import OBJECTS, CrmError, pages
from .forms import ConnectionForm, CrmMappingForm
from .secrets import CredentialsError
from .services import SyncRunning, connection_delete, connection_mapping_save, connection_save, running_sync, sync_start
from .sync import account_links, adapter_for, mapping_for, push_changes, since_words
from .vendors import VENDOR_LABELS, VENDOR_NOUNS

SAMPLES = 3
DIFF_PAGE = 50


def _runs(connection: CrmConnection):
    return Job.objects.filter(kind=Job.Kind.CRM_SYNC, params__connection=connection.pk).order_by("-pk")


@admin_only
def connection_list(request):
    connections = list(CrmConnection.objects.all())
    for connection in connections:
        connection.last_run = _runs(connection).first()
    return render(request, "integrations/crm/connection_list.html", {"connections": connections})


def _save(request, form: ConnectionForm, connection: CrmConnection | None):
    try:
        saved = connection_save(
            connection=connection,
            vendor=connection.vendor if connection else form.cleaned_data["vendor"],
            name=form.cleaned_data["name"],
            values=form.values(),
            **form.model_fields(),
        )
    except CredentialsError as exc:
        form.add_error(None, str(exc))
        return None
    messages.success(request, f"Connection “{saved.name}” saved.")
    return redirect("integrations:crm-connection-detail", connection_id=saved.pk)


@admin_only
def connection_new(request):
    form = ConnectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        response = _save(request, form, None)
        if response:
            return response
    return render(request, "integrations/crm/connection_form.html", {"form": form, "connection": None})


@admin_only
def connection_edit(request, connection_id: int):
    connection = get_object_or_404(CrmConnection, pk=connection_id)
    form = ConnectionForm(request.POST or None, connection=connection)
    if request.method == "POST" and form.is_valid():
        response = _save(request, form, connection)
        if response:
            return response
    return render(request, "integrations/crm/connection_form.html", {"form": form, "connection": connection})


@admin_only
def connection_delete_view(request, connection_id: int):
    connection = get_object_or_404(CrmConnection, pk=connection_id)
    if request.method == "POST":
        connection_delete(connection=connection)
        messages.success(request, f"Connection “{connection.name}” deleted. The records it pulled stay.")
        return redirect("integrations:crm-connections")
    return render(
        request,
        "integrations/crm/connection_confirm_delete.html",
        {"connection": connection, "links": connection.links.count()},
    )


@admin_only
def connection_detail(request, connection_id: int):
    connection = get_object_or_404(CrmConnection, pk=connection_id)
    runs = Paginator(_runs(connection), 10).get_page(request.GET.get("page"))
    saved = connection.settings.get("mapping") or {}
    objects = []
    for key, label in OBJECT_CHOICES:
        when, _ = connection.watermark(key)
        objects.append(
            {
                "key": key,
                "label": label,
                "enabled": key in connection.enabled_objects(),
                "since": since_words(when),
                "links": connection.links.filter(object_kind=key).count(),
                "mapped": bool(saved.get(key)),
            }
        )
    context = {
        "connection": connection,
        "vendor": VENDOR_LABELS.get(connection.vendor, connection.vendor),
        "objects": objects,
        "runs": runs,
        "running": running_sync(connection),
        "push_names": connection.push_field_names(),
    }
    return render(request, "integrations/crm/connection_detail.html", context)


@require_POST
@admin_only
def sync_now(request, connection_id: int):
    connection = get_object_or_404(CrmConnection, pk=connection_id)
    try:
        sync_start(connection=connection, user=request.user)
    except SyncRunning:
        messages.warning(request, "A sync of this connection is already running: follow it below.")
        return redirect("integrations:crm-connection-detail", connection_id=connection.pk)
    messages.success(request, "Sync started.")
    return redirect("integrations:crm-connection-detail", connection_id=connection.pk)


@admin_only
def mapping_edit(request, connection_id: int, obj: str):
    connection = get_object_or_404(CrmConnection, pk=connection_id)
    if obj not in OBJECTS:
        messages.warning(request, "No such kind of record.")
        return redirect("integrations:crm-connection-detail", connection_id=connection.pk)
    try:
        adapter = adapter_for(connection, extra_fields={})
        crm_fields = adapter.fields(obj)
        adapter = adapter_for(connection, extra_fields={obj: [name for name, _ in crm_fields]})
        first = next(pages(adapter, obj, None)).records[:SAMPLES]
        current = mapping_for(connection, obj, adapter)
    except (CrmError, CredentialsError) as exc:
        messages.error(request, f"The CRM could not be read: {exc}")
        return redirect("integrations:crm-connection-detail", connection_id=connection.pk)
    samples = {
        name: [str(r.fields.get(name)) for r in first if r.fields.get(name) not in (None, "")] for name, _ in crm_fields
    }
    form = CrmMappingForm(
        request.POST or None,
        obj=obj,
        crm_fields=crm_fields,
        guessed=current.get("fields") or {},
        samples=samples,
        attributes=current.get("attributes") or [],
    )
    if request.method == "POST" and form.is_valid():
        connection_mapping_save(connection=connection, obj=obj, mapping=form.cleaned_data["mapping"])
        messages.success(request, f"Mapping of {dict(OBJECT_CHOICES)[obj].lower()} saved: the next sync uses it.")
        return redirect("integrations:crm-connection-detail", connection_id=connection.pk)
    context = {
        "connection": connection,
        "vendor": VENDOR_LABELS.get(connection.vendor, connection.vendor),
        "obj": obj,
        "obj_label": dict(OBJECT_CHOICES)[obj],
        "form": form,
        "columns": [(name, samples[name]) for name, _ in crm_fields],
        "labels": dict(crm_fields),
        "noun": VENDOR_NOUNS.get(connection.vendor, {}).get(obj, m.NOUN[obj]),
        "sampled": len(first),
    }
    return render(request, "integrations/crm/mapping.html", context)


@admin_only
def push_diff(request, connection_id: int):
    """The changes a push would make, a page of companies at a time; POST confirms the first push and starts it."""
    connection = get_object_or_404(CrmConnection, pk=connection_id)
    if request.method == "POST":
        if not connection.push_enabled:
            messages.warning(request, "Writing back to the CRM is off for this connection: turn it on first.")
            return redirect("integrations:crm-connection-edit", connection_id=connection.pk)
        try:
            sync_start(connection=connection, user=request.user, pull=False, confirm_push=True)
        except SyncRunning:
            messages.warning(request, "A sync of this connection is running: confirm once it is done.")
            return redirect("integrations:crm-push-diff", connection_id=connection.pk)
        messages.success(request, "Push confirmed and started.")
        return redirect("integrations:crm-connection-detail", connection_id=connection.pk)
    page = Paginator(account_links(connection), DIFF_PAGE).get_page(request.GET.get("page"))
    changes = push_changes(connection, list(page.object_list))
    context = {
        "connection": connection,
        "vendor": VENDOR_LABELS.get(connection.vendor, connection.vendor),
        "page": page,
        "changes": changes,
        "changed": sum(1 for c in changes if c.changes),
    }
    return render(request, "integrations/crm/push_diff.html", context)
