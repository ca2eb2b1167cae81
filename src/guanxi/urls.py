from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from guanxi.api import api
from guanxi.core import views as core_views
from guanxi.followup import views as followup_views
from guanxi.service.views import public as service_public

admin.site.site_header = "Guanxi 关系"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="followup:today", permanent=False)),
    # Django's admin login is not rate-limited; send it through allauth's login, which is.
    path("django-admin/login/", RedirectView.as_view(pattern_name="account_login", query_string=True)),
    path("django-admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", core_views.healthz, name="healthz"),
    path("favicon.ico", RedirectView.as_view(url="/static/guanxi/favicon.svg", permanent=True)),
    path("customers/", include("guanxi.customers.urls")),
    path("interactions/", include("guanxi.engagement.urls")),
    path("search/", include("guanxi.search.urls")),
    path("relations/", include("guanxi.relations.urls")),
    path("value/", include("guanxi.value.urls")),
    path("data/", include("guanxi.dataio.urls")),
    path("manage/playbooks/", include("guanxi.relations.manage_urls")),
    path("pipeline/", include("guanxi.pipeline.urls")),
    path("manage/", include("guanxi.accounts.urls")),
    path("service/", include("guanxi.service.urls")),
    # A customer's feedback survey: no session, the per-recipient secret token is the credential.
    path("s/<str:token>/", service_public.survey_public, name="survey_public"),
    path("", include("guanxi.followup.urls")),
    # The calendar subscription: no session, the secret token is the credential (revocable).
    path("calendar/<str:token>.ics", followup_views.calendar_feed, name="calendar_feed"),
]

handler404 = "guanxi.core.views.not_found"
handler500 = "guanxi.core.views.server_error"
