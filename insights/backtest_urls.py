from django.urls import path

from . import backtest_views

urlpatterns = [
    path("models/<int:model_id>/backtest/", backtest_views.backtest_start, name="model-backtest"),
]
