"""Demo data: a user with realistic posts, comments, reactions and real images.

Used by `manage.py seed_demo`, by the benchmarks and by tests. Rows go in with
bulk inserts, a batch at a time, so 10,000 posts take seconds.
"""

from __future__ import annotations

import io
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.utils import timezone

from .colors import distinct_colors
from .demo_art import Artwork, make_pool
from .models import Comment, License, Post, Reaction
from .public_ids import user_sqid

BATCH_SIZE = 1000
FAN_COUNT = 12
EMOJI = ("❤️", "🔥", "👾", "😂", "🎨", "⭐", "🕹️", "🌈")

_WORDS = [
    "neon",
    "dragon",
    "castle",
    "forest",
    "robot",
    "slime",
    "potion",
    "knight",
    "ghost",
    "tiny",
    "city",
    "sunset",
    "ocean",
    "wizard",
    "pixel",
    "cat",
    "frog",
    "rocket",
    "dungeon",
    "crystal",
    "arcade",
    "cyber",
    "moon",
    "tower",
    "mushroom",
    "sword",
    "lantern",
    "garden",
    "storm",
    "retro",
    "fox",
    "owl",
    "cloud",
]
_TITLE_EMOJI = ("✨", "🐸", "🌙", "🍄", "🚀", "👾", "🔥", "🌊", "🎮", "🐉", "🌸", "💎")
_HASHTAGS = [
    "pixelart",
    "gamedev",
    "8bit",
    "16bit",
    "sprite",
    "animation",
    "retro",
    "lowres",
    "dotart",
    "aseprite",
    "indiedev",
    "tileset",
    "isometric",
    "fanart",
]
_COMMENTS = (
    "Love the palette!",
    "How many frames is this?",
    "So crisp 😍",
    "Reminds me of the SNES days",
    "The dithering here is perfect",
    "Tutorial please!",
    "🔥🔥🔥",
    "This should be a game",
    "<b>not bold</b> just testing",
    "Great shading on the left side",
)


@dataclass
class SeedResult:
    user: User
    created_posts: int
    total_posts: int


def _title(rng: random.Random) -> str:
    words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 4))).title()
    roll = rng.random()
    if roll < 0.03:
        # Long titles exist in the wild and must not break any layout.
        long = " ".join(rng.choice(_WORDS) for _ in range(45))
        return f"{words} {rng.choice(_TITLE_EMOJI)} — {long}"[:290]
    if roll < 0.35:
        return f"{words} {rng.choice(_TITLE_EMOJI)}"
    return words


def _description(rng: random.Random) -> str:
    if rng.random() < 0.25:
        return ""
    sentences = [
        f"A {rng.choice(_WORDS)} {rng.choice(_WORDS)} drawn in {rng.randint(1, 9)} hours.",
        f"Palette of {rng.randint(3, 16)} colours.",
        "Made for the weekly challenge.",
        "Feedback welcome!",
        "WIP — more frames coming.",
    ]
    return " ".join(rng.sample(sentences, rng.randint(1, 3)))


def _fans() -> list[User]:
    user_model = get_user_model()
    names = [f"fan_{i:02d}" for i in range(1, FAN_COUNT + 1)]
    user_model.objects.bulk_create(
        [user_model(username=name, email=f"{name}@example.com", password="!") for name in names],
        ignore_conflicts=True,
    )
    return list(user_model.objects.filter(username__in=names).order_by("username"))


def ensure_user(
    *, username: str, password: str, email: str, reset_password: bool = False
) -> tuple[User, bool]:
    """Create the user, or bring an existing one's email up to date; returns
    the user and whether `password` is now theirs. An existing user's password
    is set again only with `reset_password`: a new password hash ends every
    session of that user, and `make run` seeds on every start."""
    user_model = get_user_model()
    with transaction.atomic():
        user, created = user_model.objects.get_or_create(username=username)
        user.email = email
        user.is_active = True
        if created or reset_password:
            user.set_password(password)
        user.save()
    return user, created or reset_password


def _write_art(owner_sqid: str, artwork: Artwork) -> str:
    name = f"art/{owner_sqid}/{secrets.token_hex(8)}.{artwork.file_format}"
    return storages["vault"].save(name, ContentFile(artwork.data))


def _build_batch(rng, owner, owner_sqid, pool, fans, count, now, playlists=True):
    posts: list[Post] = []
    # About half the posts carry a licence, the rest none (all rights reserved).
    licenses = [*License.objects.values_list("identifier", flat=True)]
    licenses += [None] * len(licenses)
    # Distinct colours of each image of the pool, counted once per image (the
    # pool is alive for the whole seeding, so its images' id()s are theirs).
    colors = {id(artwork): distinct_colors(io.BytesIO(artwork.data)) for artwork in pool}
    for _ in range(count):
        artwork = rng.choice(pool)
        # Uploads come in bursts, so several posts share one timestamp: the
        # lists must still order and page them exactly once each.
        if posts and rng.random() < 0.15:
            created_at = posts[-1].created_at
        else:
            created_at = now - timedelta(seconds=rng.randint(60, 3 * 365 * 86400))
        deleted = rng.random() < 0.04
        posts.append(
            Post(
                owner=owner,
                kind=Post.Kind.PLAYLIST if playlists and rng.random() < 0.03 else Post.Kind.ARTWORK,
                title=_title(rng),
                description=_description(rng),
                hashtags=" ".join(rng.sample(_HASHTAGS, rng.randint(0, 4))),
                created_at=created_at,
                width=artwork.width,
                height=artwork.height,
                frame_count=artwork.frame_count,
                file_format=artwork.file_format,
                file_bytes=len(artwork.data),
                art=_write_art(owner_sqid, artwork),
                hidden_by_user=rng.random() < 0.08,
                hidden_by_mod=rng.random() < 0.01,
                deleted_by_user=deleted,
                # Never before the post was uploaded.
                deleted_by_user_date=(
                    max(
                        created_at,
                        now
                        - timedelta(days=rng.choice((1, 2, 5, 12, 40)), hours=rng.randint(0, 23)),
                    )
                    if deleted
                    else None
                ),
                view_count=int(rng.paretovariate(1.2) * 20),
                license_id=rng.choice(licenses) if licenses else None,
                color_count=colors[id(artwork)],
            )
        )
    return posts


def _after(moment, rng: random.Random, now):
    """A time up to about a month after `moment` (a post's upload), never after `now`."""
    return min(moment + timedelta(minutes=rng.randint(1, 50000)), now)


def _social_for(rng, posts: list[Post], fans, now):
    comments: list[Comment] = []
    reactions: list[Reaction] = []
    fans_by_id = {fan.pk: fan for fan in fans}
    for post in posts:
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3, 5))):
            hidden = rng.random() < 0.1
            deleted = not hidden and rng.random() < 0.08
            comments.append(
                Comment(
                    post=post,
                    author=None if rng.random() < 0.2 else rng.choice(fans),
                    body=rng.choice(_COMMENTS),
                    created_at=_after(post.created_at, rng, now),
                    hidden_by_mod=hidden,
                    deleted_by_owner=deleted,
                )
            )
        pairs = {
            (rng.choice(fans).pk, rng.choice(EMOJI)) for _ in range(rng.choice((0, 1, 2, 3, 6, 9)))
        }
        for fan_id, emoji in pairs:
            reactions.append(
                Reaction(
                    post=post,
                    user=fans_by_id[fan_id],
                    emoji=emoji,
                    created_at=_after(post.created_at, rng, now),
                )
            )
    return comments, reactions


def seed_posts(
    *,
    owner: User,
    total: int,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    playlists: bool = True,
) -> int:
    """Top the owner up to `total` posts (of any kind); returns how many were made."""
    existing = Post.objects.filter(owner=owner).count()
    missing = max(0, total - existing)
    if not missing:
        return 0
    rng = random.Random(seed if seed is not None else secrets.randbits(32))
    pool = make_pool(rng, per_format=min(24, max(3, missing // 25)))
    fans = _fans()
    owner_sqid = user_sqid(owner.pk)
    now = timezone.now()
    done = 0
    while done < missing:
        count = min(BATCH_SIZE, missing - done)
        posts = _build_batch(rng, owner, owner_sqid, pool, fans, count, now, playlists)
        # Three bulk inserts; the database's triggers set comment_count and
        # reaction_count as the comments and reactions go in (posts migration
        # 0003), one UPDATE per insert statement.
        comments, reactions = _social_for(rng, posts, fans, now)
        with transaction.atomic():
            Post.objects.bulk_create(posts)
            Comment.objects.bulk_create(comments, batch_size=BATCH_SIZE)
            Reaction.objects.bulk_create(reactions, batch_size=BATCH_SIZE)
        done += count
        if progress:
            progress(done, missing)
    return missing
