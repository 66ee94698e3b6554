from django.urls import path

from . import views

urlpatterns = [
    path("", views.territory_index, name="territory-list"),
    path("<int:territory_id>/", views.territory_detail, name="territory-detail"),
]
