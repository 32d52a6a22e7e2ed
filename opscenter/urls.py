"""URL routes: pages, admin, API v1 with its schema and offline docs."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from opscenter.core import views as core_views
from opscenter.core.forms import SignInForm

api_v1 = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("opscenter.core.api.urls")),
]
for app in getattr(settings, "OPSCENTER_PROCESS_APPS", []):
    api_v1.append(path("", include(f"{app}.api.urls")))

urlpatterns = [
    path("", include("opscenter.core.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(authentication_form=SignInForm,
                                                         redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", core_views.set_language, name="set_language"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
]
for app in getattr(settings, "OPSCENTER_PROCESS_APPS", []):
    urlpatterns.append(path("", include(f"{app}.urls")))

handler403 = "opscenter.core.error_views.permission_denied"
handler404 = "opscenter.core.error_views.page_not_found"
handler500 = "opscenter.core.error_views.server_error"
