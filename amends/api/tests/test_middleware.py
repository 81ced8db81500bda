import pytest

from amends.accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_unknown_api_path_answers_json_404(api_client_for) -> None:
    api = api_client_for(UserFactory())
    response = api.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "not_found"


def test_wrong_method_answers_json_405_with_allow(api_client_for) -> None:
    api = api_client_for(UserFactory())
    response = api.client.delete("/api/v1/cases/AM-000001/acknowledge")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert "POST" in response["Allow"]


def test_web_404_stays_html(client) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code in (302, 404)
    assert not response.get("Content-Type", "").startswith("application/json")
