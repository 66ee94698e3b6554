from django.apps import AppConfig


class SegmentationConfig(AppConfig):
    name = "segmentation"
    verbose_name = "Segmentation and scoring"

    def ready(self) -> None:
        from core.jobs import job_resumer_register
        from core.models import Job

        from .services import rescore_job_resume

        # A rescore stopped with its worker is resumed by the job healer: its undone slices are queued again.
        job_resumer_register(Job.Kind.RESCORE, rescore_job_resume)
