from django.urls import path

from . import views

urlpatterns = [path("", views.territory_index, name="territory-list")]
