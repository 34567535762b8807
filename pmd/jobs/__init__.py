"""Jobs: a batch action over any number of the owner's posts (up to
PMD_JOB_LIMIT), done by a Celery worker rather than by the page.

The set of posts is fixed when the job is created. The worker goes through
it in chunks of PMD_JOB_CHUNK posts, each chunk one transaction that runs the
same action code as a request of POST /api/pmd/action (pmd.actions) and
writes its own activity entry; posts that cannot take the action are skipped
and counted by reason. After each chunk commits, a `job_update` event tells
the owner's open pages. A job is held by a lease: a worker that dies is
replaced once the lease runs out, and a chunk commits only under the lease
it started with, so no chunk is applied twice. An undo of a job is a job
that undoes its entries, chunk by chunk.

    service.py   create, cancel, undo (the API's and the page's door)
    work.py      claiming, the chunks, finishing (what the task runs)
    recover.py   jobs whose enqueue was lost or whose worker died
    serialize.py the job item of the API and of `job_update` events
    queue.py     enqueueing the task after commit
"""
