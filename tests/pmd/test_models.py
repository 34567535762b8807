from __future__ import annotations

import pytest

from pmd.models import BatchDownloadRequest, InvalidTransition

Status = BatchDownloadRequest.Status


def _request(user, status=Status.PENDING):
    return BatchDownloadRequest.objects.create(
        user=user, post_ids=[1, 2], artwork_count=2, status=status
    )


class TestStatusMachine:
    @pytest.mark.parametrize(
        ("start", "to"),
        [
            (Status.PENDING, Status.PROCESSING),
            (Status.PROCESSING, Status.READY),
            (Status.READY, Status.EXPIRED),
            (Status.PENDING, Status.FAILED),
            (Status.PROCESSING, Status.FAILED),
        ],
    )
    def test_it_allows_the_specified_moves(self, owner, start, to):
        bdr = _request(owner, start)
        bdr.transition(to)
        bdr.refresh_from_db()
        assert bdr.status == to

    @pytest.mark.parametrize(
        ("start", "to"),
        [
            (Status.PENDING, Status.READY),
            (Status.PENDING, Status.EXPIRED),
            (Status.READY, Status.FAILED),
            (Status.READY, Status.PROCESSING),
            (Status.FAILED, Status.PENDING),
            (Status.FAILED, Status.PROCESSING),
            (Status.EXPIRED, Status.READY),
            (Status.PROCESSING, Status.PENDING),
        ],
    )
    def test_it_refuses_every_other_move(self, owner, start, to):
        bdr = _request(owner, start)
        with pytest.raises(InvalidTransition):
            bdr.transition(to)
        bdr.refresh_from_db()
        assert bdr.status == start

    def test_it_saves_fields_with_the_move(self, owner):
        bdr = _request(owner)
        bdr.transition(Status.FAILED, error_message="No artwork could be read.")
        bdr.refresh_from_db()
        assert bdr.error_message == "No artwork could be read."

    def test_the_loser_of_a_race_gets_invalid_transition(self, owner):
        bdr = _request(owner)
        stale = BatchDownloadRequest.objects.get(pk=bdr.pk)
        bdr.transition(Status.PROCESSING)
        with pytest.raises(InvalidTransition, match="lost a race"):
            stale.transition(Status.PROCESSING)
