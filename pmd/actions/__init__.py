"""Batch post actions (BPA): hide, unhide, delete, restore, add and remove a
hashtag on up to PMD_ACTION_LIMIT of the owner's posts in one request, and
the undo of any of them. One object per action in a registry, after
Wagtail's bulk actions.

    base.py        what every action shares: validation under a row lock,
                   one UPDATE, the words of its outcome
    visibility.py  hide, unhide
    bin.py         delete, restore ("Recently deleted")
    hashtags.py    add and remove a hashtag
    registry.py    the one list of the actions, and their words for the page
    run.py         running one request, with its audit entry
    undo.py        the undo of a recorded request

Import from the modules themselves: this package imports none of them, so
the activity log's model can take its choices from the registry while
run.py and undo.py write that model.
"""
