from __future__ import annotations

from posts.public_ids import user_sqid
from tests.factories import make_post


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
