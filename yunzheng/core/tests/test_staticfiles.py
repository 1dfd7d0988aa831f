"""Static assets as `make run` and production serve them: collected with hashed names and
compressed copies, cached for a year. The test settings themselves use finders (no collectstatic)."""

from __future__ import annotations

import gzip

import brotli
import pytest
from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from django.templatetags.static import static
from django.test import Client, override_settings

from yunzheng.core.staticfiles import HashedStaticFilesStorage

ECHARTS = "supervision/vendor/echarts.min.js"
ONE_YEAR_OR_MORE = 365 * 24 * 3600


def test_test_settings_serve_from_the_app_folders_without_collectstatic():
    # Runs before the module fixture below switches to collected files (tests run in file order).
    assert settings.WHITENOISE_USE_FINDERS
    response = Client().get(f"/static/{ECHARTS}")
    assert response.status_code == 200


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    """The local (`make run`) static settings: DEBUG on, collected files, no finders. Collected
    once for the module, without the admin's and ninja's files (brotli at its best level is slow)."""
    root = tmp_path_factory.mktemp("static")
    with override_settings(
        DEBUG=True,
        STATIC_ROOT=root,
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "yunzheng.core.staticfiles.HashedStaticFilesStorage"},
        },
        WHITENOISE_USE_FINDERS=False,
        WHITENOISE_AUTOREFRESH=False,
    ):
        call_command("collectstatic", interactive=False, verbosity=0, ignore_patterns=["admin", "ninja"])
        yield root


def hashed_name() -> str:
    storage = staticfiles_storage
    assert isinstance(storage._wrapped, HashedStaticFilesStorage)  # type: ignore[attr-defined]
    return storage._wrapped.stored_name(ECHARTS)  # type: ignore[attr-defined]


def max_age(response) -> int:
    directives = dict(
        part.strip().partition("=")[::2] for part in response.headers["Cache-Control"].split(",")
    )
    return int(directives["max-age"])


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_chart_library_is_hashed_compressed_and_cached_long(collected):
    url = static(ECHARTS)
    assert url != f"/static/{ECHARTS}", "DEBUG must not fall back to the unhashed name"
    assert url.startswith("/static/supervision/vendor/echarts.")
    assert url.endswith(".js")
    original = (collected / hashed_name()).read_bytes()

    client = Client()
    plain = client.get(url)
    assert plain.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert max_age(plain) >= ONE_YEAR_OR_MORE
    assert "immutable" in plain.headers["Cache-Control"]
    assert body(plain) == original

    as_brotli = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert as_brotli.headers["Content-Encoding"] == "br"
    assert max_age(as_brotli) >= ONE_YEAR_OR_MORE
    compressed = body(as_brotli)
    assert len(compressed) < len(original) / 3
    assert brotli.decompress(compressed) == original

    as_gzip = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert as_gzip.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body(as_gzip)) == original
    assert "Accept-Encoding" in as_gzip.headers["Vary"]


def test_the_dashboard_template_links_the_hashed_file(collected):
    from django.template import Context, Template

    html = Template("{% load static %}<script src=\"{% static '" + ECHARTS + "' %}\"></script>").render(
        Context()
    )
    assert hashed_name() in html


def test_unhashed_name_is_not_cached_for_long(collected):
    response = Client().get(f"/static/{ECHARTS}")
    assert response.status_code == 200
    assert max_age(response) < 3600
