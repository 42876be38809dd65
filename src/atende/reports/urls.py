from django.urls import path

from atende.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.report_list, name="list"),
    path("novo/", views.report_new, name="new"),
    path("indicadores/", views.dashboard_view, name="dashboard"),
    path("<int:report_id>/baixar/", views.report_download, name="download"),
]
