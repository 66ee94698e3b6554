"""A saved or deleted account, contact or signal queues its account for rescoring (bulk writers call
`scores_refresh_later` themselves: bulk_create and COPY send no signals). A changed membership re-checks its
territory's Tier 1 capacity once committed (a place that appears releases an account held at Tier 2)."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import Account, Contact, Signal
from territories.models import Membership

from .services import scores_refresh_later


@receiver(post_save, sender=Account, dispatch_uid="score_account_saved")
def account_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        scores_refresh_later([instance.pk])


@receiver(post_save, sender=Contact, dispatch_uid="score_contact_saved")
@receiver(post_save, sender=Signal, dispatch_uid="score_signal_saved")
def related_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        scores_refresh_later([instance.account_id])


@receiver(post_delete, sender=Contact, dispatch_uid="score_contact_deleted")
@receiver(post_delete, sender=Signal, dispatch_uid="score_signal_deleted")
def related_deleted(sender, instance, **kwargs):
    scores_refresh_later([instance.account_id])


@receiver(post_save, sender=Membership, dispatch_uid="capacity_membership_saved")
@receiver(post_delete, sender=Membership, dispatch_uid="capacity_membership_deleted")
def membership_changed(sender, instance, raw=False, **kwargs):
    if raw:
        return
    from .tasks import capacity_refresh_task

    territory_id = instance.territory_id
    transaction.on_commit(lambda: capacity_refresh_task.delay(territory_id))
