"""Listing users: pagination bounds, sorting whitelist, filters and search."""

import pytest

from .support import ApiClient

# Demo users, oldest first: Ada Admin, Alice (user), Bob (user), Carol (user, inactive).


def names(response) -> list[str]:
    return [user["name"] for user in response.json()["data"]]


def test_listing_users_is_admin_only(client: ApiClient, auth) -> None:
    response = client.get("/api/users", headers=auth.alice)

    assert response.status_code == 403
    assert response.json()["detail"] == "This operation requires the admin role."


def test_listing_defaults_to_page_one_of_twenty_oldest_first(client: ApiClient, auth) -> None:
    response = client.get("/api/users", headers=auth.admin)

    assert response.status_code == 200
    assert response.json()["meta"] == {"page": 1, "limit": 20, "total": 4, "total_pages": 1}
    assert names(response) == ["Ada Admin", "Alice Liddell", "Bob Builder", "Carol Danvers"]


def test_pages_split_the_result_and_report_the_total(client: ApiClient, auth) -> None:
    response = client.get("/api/users", params={"page": 2, "limit": 3}, headers=auth.admin)

    assert names(response) == ["Carol Danvers"]
    assert response.json()["meta"] == {"page": 2, "limit": 3, "total": 4, "total_pages": 2}


@pytest.mark.parametrize(
    ("limit", "total_pages"),
    [(1, 4), (2, 2), (3, 2), (4, 1), (100, 1)],
)
def test_total_pages_rounds_up(client: ApiClient, auth, limit: int, total_pages: int) -> None:
    response = client.get("/api/users", params={"limit": limit}, headers=auth.admin)

    assert response.json()["meta"]["total_pages"] == total_pages


def test_a_page_past_the_end_is_empty_but_still_reports_the_total(client: ApiClient, auth) -> None:
    response = client.get("/api/users", params={"page": 9, "limit": 3}, headers=auth.admin)

    assert response.status_code == 200
    assert response.json() == {
        "data": [],
        "meta": {"page": 9, "limit": 3, "total": 4, "total_pages": 2},
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 101}, "query.limit"),
        ({"limit": 0}, "query.limit"),
        ({"page": 0}, "query.page"),
    ],
    ids=["limit-above-100", "limit-zero", "page-zero"],
)
def test_out_of_range_pagination_is_rejected(client: ApiClient, auth, params, field) -> None:
    response = client.get("/api/users", params=params, headers=auth.admin)

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [field]


def test_sorting_descending_by_creation(client: ApiClient, auth) -> None:
    response = client.get("/api/users", params={"sort": "-created_at"}, headers=auth.admin)

    assert names(response) == ["Carol Danvers", "Bob Builder", "Alice Liddell", "Ada Admin"]


def test_sorting_by_several_fields(client: ApiClient, auth) -> None:
    client.post(
        "/api/users",
        json={"email": "aaron@example.com", "name": "Bob Builder", "password": "a-long-passphrase"},
    )

    response = client.get("/api/users", params={"sort": "name,-email"}, headers=auth.admin)

    emails = [user["email"] for user in response.json()["data"]]
    assert emails[2:4] == ["bob@example.com", "aaron@example.com"]


def test_sorting_by_a_field_outside_the_whitelist_is_rejected(client: ApiClient, auth) -> None:
    response = client.get("/api/users", params={"sort": "password_hash"}, headers=auth.admin)

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "query.sort",
            "message": "cannot sort by 'password_hash'; allowed fields: created_at, email, name",
        }
    ]


def test_filtering_by_status(client: ApiClient, auth) -> None:
    response = client.get("/api/users", params={"status": "inactive"}, headers=auth.admin)

    assert names(response) == ["Carol Danvers"]


def test_filtering_by_role(client: ApiClient, auth) -> None:
    response = client.get("/api/users", params={"role": "admin"}, headers=auth.admin)

    assert names(response) == ["Ada Admin"]


def test_filtering_by_an_unknown_status_is_rejected(client: ApiClient, auth) -> None:
    response = client.get("/api/users", params={"status": "banned"}, headers=auth.admin)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.status"


def test_search_matches_names_case_insensitively(client: ApiClient, auth) -> None:
    response = client.get("/api/users", params={"q": "LIDDELL"}, headers=auth.admin)

    assert names(response) == ["Alice Liddell"]


def test_search_matches_emails(client: ApiClient, auth) -> None:
    response = client.get("/api/users", params={"q": "bob@"}, headers=auth.admin)

    assert names(response) == ["Bob Builder"]


def test_search_treats_wildcards_literally(client: ApiClient, auth) -> None:
    response = client.get("/api/users", params={"q": "%"}, headers=auth.admin)

    assert response.json()["meta"] == {"page": 1, "limit": 20, "total": 0, "total_pages": 0}


def test_filters_search_and_sort_combine(client: ApiClient, auth) -> None:
    params = {"status": "active", "role": "user", "q": "example.com", "sort": "-created_at"}

    response = client.get("/api/users", params=params, headers=auth.admin)

    assert names(response) == ["Bob Builder", "Alice Liddell"]
