from django.apps import AppConfig


class SegmentationConfig(AppConfig):
    name = "segmentation"
    verbose_name = "Segmentation and scoring"

    def ready(self) -> None:
        from core.jobs import job_resumer_register
        from core.models import Job

        from .audit import audit_register
        from .services import rescore_job_resume

        # A rescore stopped with its worker is resumed by the job healer: its undone slices are queued again.
        job_resumer_register(Job.Kind.RESCORE, rescore_job_resume)
        # The audit page (core) shows criteria, signal rules and personas in words: the words are ours.
        audit_register()
