from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from atende.api import api
from atende.core import views as core_views

# The API first: its requests are the most numerous, and each pattern tried before the
# one that matches costs every request of it.
urlpatterns = [
    path("api/v1/", api.urls),
    path("", include("atende.core.urls")),
    path("conta/", include("atende.accounts.urls")),
    path("relatorios/", include("atende.reports.urls")),
    path("entregas/", include("atende.notifications.urls")),
    path("painel/", include("atende.occurrences.urls")),
    path("portal/", include("atende.portal.urls")),
    path("", include("atende.callcenter.urls")),
    path("", include("atende.registrations.urls")),
    path("configuracao/", include("atende.catalog.urls")),
    path("", include("atende.beneficiaries.urls")),
    path("idioma/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("healthz", core_views.healthz, name="healthz"),
]

handler404 = "atende.core.views.page_not_found"
