from __future__ import annotations

from posts.public_ids import user_sqid
from testing.factories import make_post


class TestDashboardAccess:
    def test_it_loads_for_the_owner_with_the_total(self, owner, owner_client):
        for _ in range(3):
            make_post(owner)
        make_post(owner, kind="playlist")
        make_post(owner, deleted_by_user=True)
        response = owner_client.get(f"/u/{user_sqid(owner.pk)}/posts")
        assert response.status_code == 200
        body = response.content.decode()
        assert "Post Management Dashboard" in body
        assert "<span data-total-count>3</span> posts" in body

    def test_it_sends_anonymous_to_login_with_next(self, client, owner):
        url = f"/u/{user_sqid(owner.pk)}/posts"
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next=/u/{user_sqid(owner.pk)}/posts"

    def test_it_sends_another_user_to_the_owners_profile(self, owner, other_client):
        response = other_client.get(f"/u/{user_sqid(owner.pk)}/posts")
        assert response.status_code == 302
        assert response["Location"] == f"/u/{user_sqid(owner.pk)}/"

    def test_it_is_404_for_an_unknown_user(self, owner_client, owner):
        assert owner_client.get(f"/u/{user_sqid(owner.pk + 500)}/posts").status_code == 404

    def test_it_shows_the_empty_state(self, owner, owner_client):
        body = owner_client.get(f"/u/{user_sqid(owner.pk)}/posts").content.decode()
        assert "No posts yet" in body

    def test_it_refuses_post(self, owner, owner_client):
        assert owner_client.post(f"/u/{user_sqid(owner.pk)}/posts").status_code == 405


class TestSessionEnded:
    """An htmx request of a dashboard whose session ended: the whole page goes
    to the log-in form (HX-Redirect), never a log-in form as the fragment."""

    def test_a_table_request_sends_the_page_back_to_the_table_it_showed(self, client, owner):
        dashboard = f"/u/{user_sqid(owner.pk)}/posts"
        response = client.get(
            f"{dashboard}?sort=size",
            headers={
                "HX-Request": "true",
                "HX-Current-URL": f"http://testserver{dashboard}?sort=title&page=2",
            },
        )
        assert response.status_code == 200
        assert response["HX-Redirect"] == (
            "/accounts/login/?next=%2Fu%2F"
            f"{user_sqid(owner.pk)}%2Fposts%3Fsort%3Dtitle%26page%3D2&session=ended"
        )
        assert b"password" not in response.content

    def test_the_activity_panel_and_a_page_elsewhere_send_it_to_the_dashboard(self, client, owner):
        dashboard = f"/u/{user_sqid(owner.pk)}/posts"
        for current in ("http://testserver/u/someone/", "https://elsewhere.example/", ""):
            response = client.get(
                f"{dashboard}/activity", headers={"HX-Request": "true", "HX-Current-URL": current}
            )
            assert response["HX-Redirect"] == (
                f"/accounts/login/?next=%2Fu%2F{user_sqid(owner.pk)}%2Fposts&session=ended"
            )

    def test_the_log_in_form_says_so_once(self, client):
        body = client.get("/accounts/login/?next=/u/x/posts&session=ended").content.decode()
        assert body.count("Your session has ended.") == 1
        assert "Your session has ended" not in client.get("/accounts/login/").content.decode()
