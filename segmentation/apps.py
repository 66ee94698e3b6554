from django.apps import AppConfig


class SegmentationConfig(AppConfig):
    name = "segmentation"
    verbose_name = "Segmentation and scoring"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the rescoring receivers)
