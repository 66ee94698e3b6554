"""New MQAs become handoffs (the routing hook of segmentation.qualify)."""

from django.dispatch import receiver

from segmentation.qualify import mqas_raised


@receiver(mqas_raised, dispatch_uid="handoffs_for_new_mqas")
def mqas_to_handoffs(sender, mqa_ids, **kwargs):
    from .tasks import handoffs_create_task

    handoffs_create_task.delay(list(mqa_ids))
