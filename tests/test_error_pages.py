"""The site's own 404 and 500 pages: in its style, with a way back, and
rendered without the database (a 500 may be the database failing) or any
request at all (Django renders 500.html with no context)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from pmd_project.errors import not_found, server_error


@pytest.fixture
def no_database(django_db_blocker):
    with django_db_blocker.block():
        yield


def test_the_500_page_needs_no_database(no_database):
    response = server_error(RequestFactory().get("/u/someone/posts"))
    body = response.content.decode()
    assert response.status_code == 500
    assert "<h1>Something went wrong on our side</h1>" in body
    assert '<a class="button button-primary" href="/">Go to your profile</a>' in body
    assert "/static/css/site." in body and "/static/favicon." in body


def test_the_404_page_needs_no_database(client, no_database):
    response = client.get("/no/such/page")
    body = response.content.decode()
    assert response.status_code == 404
    assert "<h1>There is nothing at this address</h1>" in body
    assert 'href="/">Go to your profile</a>' in body


def test_the_api_keeps_its_json_errors(no_database):
    request = RequestFactory().get("/api/pmd/nothing")
    assert server_error(request)["Content-Type"] == "application/json"
    assert not_found(request, Exception())["Content-Type"] == "application/json"


def test_favicon_ico_leads_to_the_sites_icon(client, no_database):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].startswith("/static/favicon.")
    assert response["Location"].endswith(".svg")
    assert client.head("/favicon.ico").status_code == 302
