from __future__ import annotations

from django.test import Client

from posts.public_ids import post_sqid, user_sqid
from testing.factories import make_post


class TestProfile:
    def test_it_shows_visible_posts_only(self, client, owner):
        shown = make_post(owner, title="Shown sprite")
        make_post(owner, title="Hidden sprite", hidden_by_user=True)
        make_post(owner, title="Mod hidden sprite", hidden_by_mod=True)
        make_post(owner, title="Deleted sprite", deleted_by_user=True)
        make_post(owner, title="A playlist", kind="playlist")
        response = client.get(f"/u/{user_sqid(owner.pk)}/")
        assert response.status_code == 200
        body = response.content.decode()
        assert shown.title in body
        for absent in ("Hidden sprite", "Mod hidden sprite", "Deleted sprite", "A playlist"):
            assert absent not in body
        assert "1 artwork" in body

    def test_it_shows_the_dashboard_button_to_the_owner_only(
        self, owner, other, owner_client, other_client, client
    ):
        url = f"/u/{user_sqid(owner.pk)}/"
        assert 'title="Post Management Dashboard"' in owner_client.get(url).content.decode()
        assert 'title="Post Management Dashboard"' not in other_client.get(url).content.decode()
        assert 'title="Post Management Dashboard"' not in client.get(url).content.decode()

    def test_it_escapes_titles(self, client, owner):
        make_post(owner, title="<script>alert(1)</script>")
        body = client.get(f"/u/{user_sqid(owner.pk)}/").content.decode()
        assert "<script>alert(1)</script>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body

    def test_it_is_404_for_unknown_and_non_canonical_sqids(self, client, owner):
        assert client.get(f"/u/{user_sqid(owner.pk + 1000)}/").status_code == 404
        assert client.get("/u/!!!/").status_code == 404
        assert client.get("/u/" + "Z" * 40 + "/").status_code == 404

    def test_it_shows_the_empty_state(self, client, owner):
        assert "No posts yet." in client.get(f"/u/{user_sqid(owner.pk)}/").content.decode()


class TestArt:
    def test_it_serves_a_visible_artwork_to_anyone(self, client, owner):
        post = make_post(owner, file_format="gif")
        response = client.get(f"/art/{post_sqid(post.pk)}")
        assert response.status_code == 200
        assert response["Content-Type"] == "image/gif"
        assert b"".join(response.streaming_content)[:6] in (b"GIF89a", b"GIF87a")

    def test_it_serves_hidden_and_deleted_artworks_to_the_owner_only(
        self, owner, other_client, owner_client, client
    ):
        for fields in (
            {"hidden_by_user": True},
            {"deleted_by_user": True},
            {"hidden_by_mod": True},
        ):
            post = make_post(owner, **fields)
            url = f"/art/{post_sqid(post.pk)}"
            assert owner_client.get(url).status_code == 200
            assert other_client.get(url).status_code == 404
            assert client.get(url).status_code == 404

    def test_a_deactivated_users_artwork_is_served_to_staff_only(
        self, owner, owner_client, other_client, client, staff
    ):
        post = make_post(owner)
        url = f"/art/{post_sqid(post.pk)}"
        owner.is_active = False
        owner.save(update_fields=["is_active"])
        staff_client = Client()
        staff_client.force_login(staff)
        # Their session no longer logs them in either.
        for stranger in (client, other_client, owner_client):
            assert stranger.get(url).status_code == 404
        assert stranger.get(f"/u/{user_sqid(owner.pk)}/").status_code == 404
        assert staff_client.get(url).status_code == 200

    def test_it_is_404_for_a_missing_file_or_unknown_post(self, client, owner):
        post = make_post(owner, write_file=False)
        assert client.get(f"/art/{post_sqid(post.pk)}").status_code == 404
        assert client.get(f"/art/{post_sqid(post.pk + 99)}").status_code == 404
        assert client.get("/art/%2e%2e%2fetc").status_code == 404


def test_home_sends_a_user_to_their_profile_and_anonymous_to_login(owner, owner_client):
    assert owner_client.get("/")["Location"] == f"/u/{user_sqid(owner.pk)}/"
    assert Client().get("/")["Location"].startswith("/accounts/login/")
