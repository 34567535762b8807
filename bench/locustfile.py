"""Locust users for `make bench` (bench/load.py): artists on their dashboards.

No Django here: bench/load.py prepares the users (sessions, CSRF tokens, post
ids) in a JSON file named by PMD_LOAD_USERS, and this file only speaks HTTP.
"""

from __future__ import annotations

import itertools
import json
import os
import random

from locust import HttpUser, between, task

USERS = json.loads(open(os.environ["PMD_LOAD_USERS"]).read())  # noqa: SIM115
_next = itertools.count()
SORTS = ["uploaded", "title", "size", "reactions", "comments", "views", "frames", "visibility"]


class Artist(HttpUser):
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        me = USERS[next(_next) % len(USERS)]
        self.dashboard = me["dashboard"]
        self.post_ids = me["post_ids"]
        self.client.cookies.update(me["cookies"])
        self.headers = {"X-CSRFToken": me["cookies"]["csrftoken"]}
        self.client.get(self.dashboard, name="dashboard (full page)")

    @task(6)
    def browse(self) -> None:
        query = {"sort": random.choice(SORTS), "dir": random.choice(["asc", "desc"]),
                 "page": random.randint(1, 6), "size": random.choice([32, 64])}  # fmt: skip
        self.client.get(self.dashboard, params=query, headers={"HX-Request": "true"},
                        name="dashboard table (htmx)")  # fmt: skip

    @task(2)
    def select_all(self) -> None:
        self.client.get("/api/pmd/posts/ids", params={"limit": 512, "visibility": "visible"},
                        name="/api/pmd/posts/ids")  # fmt: skip

    @task(1)
    def list_posts(self) -> None:
        self.client.get("/api/pmd/posts", params={"limit": 128}, name="/api/pmd/posts")

    @task(2)
    def hide_and_unhide(self) -> None:
        ids = random.sample(self.post_ids, 64)
        for action in ("hide", "unhide"):
            with self.client.post("/api/pmd/action", json={"action": action, "post_ids": ids},
                                  headers=self.headers, name=f"/api/pmd/action ({action})",
                                  catch_response=True) as response:  # fmt: skip
                if response.status_code != 200:
                    response.failure(response.text[:200])
