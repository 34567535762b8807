"""The plumbing, in one place: what the application needs of the outside world
and of the libraries it stands on, behind small interfaces that know nothing
of posts or download requests.

- vault.py: the vault (Django's storage alias `vault`), a local folder or an
  S3-compatible bucket, behind one interface (`vault()`); s3.py its S3
  clients;
- files.py: a vault file as a response (streamed in chunks, resumable, or
  handed to nginx);
- inputs.py: every value a client sends, parsed once (BadInput and its 4xx);
- eventstream.py: the adapter of django-eventstream's internals (its storage,
  its Redis listener, opening a stream), tested against the pinned version.

Nothing here imports `posts` or `pmd`.
"""
