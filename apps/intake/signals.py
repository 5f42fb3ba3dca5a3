"""The seam between intake and whatever happens after a submission is stored.

``submission_stored`` is sent inside the submission's transaction, once per stored submission
(spam included: receivers decide what spam means to them). A receiver's writes (the follow-ups
app plans its outbox rows here) commit or roll back with the submission; anything that leaves
the process (a broker hand-off, an email) must wait for ``transaction.on_commit``.

Arguments: ``submission_id`` (int), ``submission`` (the just-saved instance, with its person:
receivers in this process need not read it back), ``kind`` (str), ``is_spam`` (bool),
``is_urgent`` (bool).
"""

from __future__ import annotations

from django.dispatch import Signal

submission_stored = Signal()
