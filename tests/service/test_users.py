"""Creating, reading, replacing, updating and deleting users."""

from reference_api import demo_data as demo

from .support import ApiClient

NEW_USER = {"email": "dave@example.com", "name": "Dave Lister", "password": "a-long-passphrase"}


def test_sign_up_creates_a_user_and_points_to_it(client: ApiClient, auth) -> None:
    response = client.post("/api/users", json=NEW_USER)

    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == f"/api/users/{body['id']}"
    assert body["email"] == "dave@example.com"
    assert body["role"] == "user"
    assert body["status"] == "active"
    assert body["created_at"] == "2025-01-15T09:30:00Z"
    assert "password" not in body and "password_hash" not in body
    fetched = client.get(response.headers["location"], headers=auth.admin)
    assert fetched.json() == body


def test_sign_up_stores_emails_lower_cased(client: ApiClient) -> None:
    response = client.post("/api/users", json={**NEW_USER, "email": "Dave@Example.COM"})

    assert response.json()["email"] == "dave@example.com"


def test_duplicate_email_is_a_conflict_regardless_of_case(client: ApiClient) -> None:
    response = client.post("/api/users", json={**NEW_USER, "email": "ALICE@example.com"})

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "CONFLICT"


def test_anonymous_sign_up_cannot_ask_for_the_admin_role(client: ApiClient) -> None:
    response = client.post("/api/users", json={**NEW_USER, "role": "admin"})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_user_cannot_create_an_admin(client: ApiClient, auth) -> None:
    response = client.post("/api/users", json={**NEW_USER, "role": "admin"}, headers=auth.alice)

    assert response.status_code == 403
    assert response.json()["code"] == "FORBIDDEN"


def test_an_admin_can_create_an_admin(client: ApiClient, auth) -> None:
    response = client.post("/api/users", json={**NEW_USER, "role": "admin"}, headers=auth.admin)

    assert response.status_code == 201
    assert response.json()["role"] == "admin"


def test_me_returns_the_caller(client: ApiClient, auth) -> None:
    response = client.get("/api/users/me", headers=auth.bob)

    assert response.status_code == 200
    assert response.json()["id"] == str(demo.BOB_ID)


def test_a_user_can_read_their_own_account(client: ApiClient, auth) -> None:
    response = client.get(f"/api/users/{demo.ALICE_ID}", headers=auth.alice)

    assert response.status_code == 200
    assert response.json()["email"] == "alice@example.com"


def test_a_user_cannot_read_someone_else(client: ApiClient, auth) -> None:
    response = client.get(f"/api/users/{demo.BOB_ID}", headers=auth.alice)

    assert response.status_code == 403


def test_a_user_gets_403_not_404_for_ids_that_do_not_exist(client: ApiClient, auth) -> None:
    # Otherwise the status code would reveal which user IDs exist.
    response = client.get(f"/api/users/{demo.UNKNOWN_ID}", headers=auth.alice)

    assert response.status_code == 403


def test_an_admin_gets_404_for_an_unknown_user(client: ApiClient, auth) -> None:
    response = client.get(f"/api/users/{demo.UNKNOWN_ID}", headers=auth.admin)

    assert response.status_code == 404
    assert response.json()["detail"] == f"No user with id {demo.UNKNOWN_ID}."


def test_put_replaces_every_editable_field(client: ApiClient, auth, clock) -> None:
    clock.advance(hours=1)
    replacement = {
        "email": "a.liddell@example.com",
        "name": "A. Liddell",
        "role": "user",
        "status": "active",
    }

    response = client.put(f"/api/users/{demo.ALICE_ID}", json=replacement, headers=auth.alice)

    assert response.status_code == 200
    body = response.json()
    assert {key: body[key] for key in replacement} == replacement
    assert body["updated_at"] == "2025-01-15T10:30:00Z"
    assert body["created_at"] == "2025-01-05T09:30:00Z"


def test_put_requires_every_field(client: ApiClient, auth) -> None:
    response = client.put(f"/api/users/{demo.ALICE_ID}", json={"name": "A."}, headers=auth.alice)

    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"body.email", "body.role", "body.status"}


def test_patch_changes_only_the_fields_sent(client: ApiClient, auth) -> None:
    response = client.patch(f"/api/users/{demo.ALICE_ID}", json={"name": "Alice L."}, headers=auth.alice)

    assert response.status_code == 200
    assert response.json()["name"] == "Alice L."
    assert response.json()["email"] == "alice@example.com"


def test_patch_rejects_explicit_null(client: ApiClient, auth) -> None:
    response = client.patch(f"/api/users/{demo.ALICE_ID}", json={"email": None}, headers=auth.alice)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.email"


def test_patch_to_a_taken_email_is_a_conflict(client: ApiClient, auth) -> None:
    response = client.patch(f"/api/users/{demo.ALICE_ID}", json={"email": "bob@example.com"}, headers=auth.alice)

    assert response.status_code == 409


def test_a_user_cannot_promote_themself(client: ApiClient, auth) -> None:
    response = client.patch(f"/api/users/{demo.ALICE_ID}", json={"role": "admin"}, headers=auth.alice)

    assert response.status_code == 403
    assert response.json()["detail"] == "Only an admin may change role or status."


def test_an_admin_can_deactivate_a_user(client: ApiClient, auth) -> None:
    response = client.patch(f"/api/users/{demo.BOB_ID}", json={"status": "inactive"}, headers=auth.admin)

    assert response.status_code == 200
    assert response.json()["status"] == "inactive"


def test_a_deactivated_users_token_stops_working_at_once(client: ApiClient, auth) -> None:
    bob = auth.bob
    client.patch(f"/api/users/{demo.BOB_ID}", json={"status": "inactive"}, headers=auth.admin)

    assert client.get("/api/users/me", headers=bob).status_code == 401


def test_delete_removes_the_user_and_their_orders(client: ApiClient, auth) -> None:
    response = client.delete(f"/api/users/{demo.ALICE_ID}", headers=auth.admin)

    assert response.status_code == 204
    assert response.content == b""
    assert "content-type" not in response.headers
    assert client.get(f"/api/users/{demo.ALICE_ID}", headers=auth.admin).status_code == 404
    orders = client.get(f"/api/users/{demo.ALICE_ID}/orders", headers=auth.admin)
    assert orders.status_code == 404


def test_a_user_can_delete_themself(client: ApiClient, auth) -> None:
    assert client.delete(f"/api/users/{demo.BOB_ID}", headers=auth.bob).status_code == 204


def test_a_user_cannot_delete_someone_else(client: ApiClient, auth) -> None:
    assert client.delete(f"/api/users/{demo.ALICE_ID}", headers=auth.bob).status_code == 403
