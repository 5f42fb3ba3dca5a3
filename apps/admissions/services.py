"""Writes of the admissions team's work on leads: the pipeline, assignment, notes, calls,
verification results, payer mapping, and revealing PHI (audited).

Every change to a lead is timestamped and attributed (a StatusChange, Note, CallLog or
VerificationResult row naming the actor). A note, a call, a status change and a verification
count as the touch that stops escalations (``leads.services.submission_touch``).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from apps.admissions.exceptions import (
    AssignmentNotAllowedError,
    LeadChangedError,
    PhiRevealNotAllowedError,
    PipelineTransitionError,
    ReasonRequiredError,
    VerificationInvalidError,
)
from apps.admissions.models import CallLog, Note, PayerTeam, StatusChange, VerificationResult
from apps.admissions.pipeline import REASON_REQUIRED, TRANSITIONS
from apps.leads.models import CardImage, Submission
from apps.leads.selectors import submission_ids_waiting_for_payer, submission_payer_texts_waiting
from apps.leads.services import (
    submission_assignee_move,
    submission_assignee_set,
    submission_payer_resolve,
    submission_status_move,
    submission_touch,
)
from apps.staff.selectors import staff_who_work_leads, staff_works_leads

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.http import HttpRequest

    from apps.payers.models import Payer

    Actor = User | AnonymousUser

Status = Submission.Status

NOTE_MAX_LENGTH = 10_000
REASON_MAX_LENGTH = 1_000
CALL_MAX_SECONDS = 6 * 60 * 60

# Fields of a submission that are PHI and may be revealed, with how to read each in clear.
REVEALABLE_FIELDS: tuple[str, ...] = (
    "member_id",
    "group_number",
    "date_of_birth",
    "patient_first_name",
    "patient_last_name",
    "policy_holder_name",
    "policy_holder_dob",
    "relationship_to_policy_holder",
    "message",
    "best_time",
)
# PHI on the lead's timeline, revealed as a whole: note texts, closing reasons, benefit details.
TIMELINE_PHI: tuple[str, ...] = ("notes", "status_reasons", "verification_results")


@transaction.atomic
def lead_status_change(
    *,
    submission: Submission,
    to_status: str,
    actor: Actor,
    reason: str = "",
    from_status: str | None = None,
) -> StatusChange:
    """Move a lead along the pipeline (``pipeline.TRANSITIONS``), recording who, when and why.

    A reason is required to close a lead as lost or not admitted. The move is a conditional
    UPDATE on the status the caller saw (``from_status``, the lead page's; ``submission.status``
    by default), so two coordinators cannot both move the same lead: the second gets
    ``LeadChangedError``. Counts as a touch.
    """
    reason = reason.strip()
    if to_status not in Status.values:
        raise PipelineTransitionError(f"Unknown status {to_status!r}.")
    from_status = submission.status if from_status is None else from_status
    if from_status not in Status.values:
        raise PipelineTransitionError(f"Unknown status {from_status!r}.")
    if to_status not in TRANSITIONS.get(from_status, frozenset()):
        raise PipelineTransitionError(
            f"A lead cannot go from {Status(from_status).label} to {Status(to_status).label}.",
            extra={"from": from_status, "to": to_status},
        )
    if to_status in REASON_REQUIRED and not reason:
        raise ReasonRequiredError(f"Say why the lead is {Status(to_status).label.lower()}.")
    if len(reason) > REASON_MAX_LENGTH:
        raise ReasonRequiredError(f"A reason has at most {REASON_MAX_LENGTH} characters.")
    now = timezone.now()
    if not submission_status_move(
        submission_id=submission.pk, from_status=from_status, to_status=to_status, at=now
    ):
        raise LeadChangedError("The lead changed meanwhile: reload it and decide again.")
    change = StatusChange.objects.create(
        submission=submission,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        created_by=_user(actor),
    )
    submission.status = to_status
    submission.status_changed_at = now
    submission_touch(submission_id=submission.pk, actor_id=actor.pk)
    return change


@transaction.atomic
def note_add(*, submission: Submission, actor: Actor, text: str) -> Note:
    """Write a note on the lead. Counts as the touch that stops escalations."""
    text = text.strip()
    if not text:
        raise VerificationInvalidError("A note needs some text.")
    if len(text) > NOTE_MAX_LENGTH:
        raise VerificationInvalidError(f"A note has at most {NOTE_MAX_LENGTH} characters.")
    note = Note.objects.create(submission=submission, text=text, created_by=_user(actor))
    submission_touch(submission_id=submission.pk, actor_id=actor.pk)
    return note


@transaction.atomic
def call_log(
    *,
    submission: Submission,
    actor: Actor,
    outcome: str,
    duration_seconds: int,
    direction: str = CallLog.Direction.OUTBOUND,
) -> CallLog:
    """Record a phone call about the lead. Counts as the touch that stops escalations; reaching
    the person moves a new lead to "contacted"."""
    if outcome not in CallLog.Outcome.values:
        raise VerificationInvalidError(f"Unknown call outcome {outcome!r}.")
    if direction not in CallLog.Direction.values:
        raise VerificationInvalidError(f"Unknown call direction {direction!r}.")
    if not 0 <= duration_seconds <= CALL_MAX_SECONDS:
        raise VerificationInvalidError("A call lasts between 0 seconds and 6 hours.")
    row = CallLog.objects.create(
        submission=submission,
        outcome=outcome,
        direction=direction,
        duration_seconds=duration_seconds,
        created_by=_user(actor),
    )
    if outcome == CallLog.Outcome.REACHED and submission.status == Status.NEW:
        lead_status_change(submission=submission, to_status=Status.CONTACTED, actor=actor)
    else:
        submission_touch(submission_id=submission.pk, actor_id=actor.pk)
    return row


@dataclass(frozen=True)
class Benefits:
    """What the payer said, as staff typed it (amounts in dollars, coinsurance in percent)."""

    network: str
    plan_type: str = ""
    deductible_met: str = ""
    deductible_total: str = ""
    out_of_pocket_met: str = ""
    out_of_pocket_total: str = ""
    coinsurance_percent: str = ""
    preauthorization_required: bool | None = None
    covered_levels_of_care: tuple[str, ...] = ()
    payer_call_reference: str = ""


NETWORK_STATUS = {
    VerificationResult.Network.IN_NETWORK: Status.VERIFIED_IN_NETWORK,
    VerificationResult.Network.OUT_OF_NETWORK: Status.VERIFIED_OUT_OF_NETWORK,
    VerificationResult.Network.NO_COVERAGE: Status.NO_COVERAGE,
}


@transaction.atomic
def verification_result_record(
    *, submission: Submission, actor: Actor, benefits: Benefits
) -> VerificationResult:
    """Store what the payer said (encrypted) and set the matching verified status when the
    pipeline allows it from where the lead is (an admitted lead keeps its status)."""
    _benefits_check(benefits)
    row = VerificationResult.objects.create(
        submission=submission,
        created_by=_user(actor),
        network=benefits.network,
        plan_type=benefits.plan_type,
        deductible_met=benefits.deductible_met,
        deductible_total=benefits.deductible_total,
        out_of_pocket_met=benefits.out_of_pocket_met,
        out_of_pocket_total=benefits.out_of_pocket_total,
        coinsurance_percent=benefits.coinsurance_percent,
        preauthorization_required=(
            ""
            if benefits.preauthorization_required is None
            else ("yes" if benefits.preauthorization_required else "no")
        ),
        covered_levels_of_care=",".join(benefits.covered_levels_of_care),
        payer_call_reference=benefits.payer_call_reference.strip(),
    )
    target = NETWORK_STATUS[VerificationResult.Network(benefits.network)]
    if target in TRANSITIONS.get(submission.status, frozenset()):
        lead_status_change(submission=submission, to_status=target, actor=actor)
    else:
        submission_touch(submission_id=submission.pk, actor_id=actor.pk)
    return row


def _benefits_check(benefits: Benefits) -> None:
    if benefits.network not in VerificationResult.Network.values:
        raise VerificationInvalidError(
            "Say whether the plan is in network, out of network or none."
        )
    if benefits.plan_type and benefits.plan_type not in VerificationResult.PlanType.values:
        raise VerificationInvalidError(f"Unknown plan type {benefits.plan_type!r}.")
    unknown = set(benefits.covered_levels_of_care) - set(VerificationResult.LEVELS_OF_CARE)
    if unknown:
        raise VerificationInvalidError(f"Unknown levels of care: {', '.join(sorted(unknown))}.")
    for name in (
        "deductible_met",
        "deductible_total",
        "out_of_pocket_met",
        "out_of_pocket_total",
        "coinsurance_percent",
    ):
        value = getattr(benefits, name)
        if value and not _is_amount(value):
            raise VerificationInvalidError(f"{name.replace('_', ' ')} must be a number.")
    if benefits.coinsurance_percent and not 0 <= float(benefits.coinsurance_percent) <= 100:  # noqa: PLR2004
        raise VerificationInvalidError("Coinsurance is a percentage between 0 and 100.")
    if len(benefits.payer_call_reference) > 100:  # noqa: PLR2004
        raise VerificationInvalidError("A payer call reference has at most 100 characters.")


def _is_amount(value: str) -> bool:
    try:
        return float(value) >= 0
    except ValueError:
        return False


# --- Assignment ----------------------------------------------------------------------------------


@transaction.atomic
def lead_assign(*, submission: Submission, assignee: User | None, actor: Actor) -> None:
    """Give a lead to ``assignee`` (None: unassign).

    Anyone working leads may take an unassigned lead ("assign to me") or let go of their own;
    giving a lead to someone else or taking over a colleague's needs ``leads.assign_submission``.
    The change is a conditional UPDATE on the assignee the caller saw, so two people cannot both
    take the same lead: the second gets ``LeadChangedError``.
    """
    is_manager = actor.has_perm("leads.assign_submission")
    taking_free_lead = (
        assignee is not None
        and assignee.pk == actor.pk
        and (submission.assignee_id in (None, actor.pk))
    )
    releasing_own = assignee is None and submission.assignee_id == actor.pk
    if not (is_manager or taking_free_lead or releasing_own):
        raise AssignmentNotAllowedError(
            "Only a manager assigns leads to others or takes them over."
        )
    if assignee is not None and not staff_works_leads(user=assignee):
        # A lead given to someone who cannot open it would wait for a call nobody makes.
        raise AssignmentNotAllowedError(f"{assignee.get_username()} does not work leads.")
    assignee_id = assignee.pk if assignee else None
    if not submission_assignee_move(
        submission_id=submission.pk,
        from_assignee_id=submission.assignee_id,
        to_assignee_id=assignee_id,
    ):
        raise LeadChangedError("The lead changed meanwhile: reload it and decide again.")
    submission.assignee_id = assignee_id


def lead_assign_to_me(*, submission: Submission, actor: Actor) -> None:
    """ "Assign to me": the acting coordinator takes the lead (see ``lead_assign``)."""
    if not actor.is_authenticated:
        raise AssignmentNotAllowedError("Log in to take a lead.")
    lead_assign(submission=submission, assignee=actor, actor=actor)


@transaction.atomic
def lead_assign_round_robin(*, submission: Submission, actor: Actor) -> int | None:
    """Give the lead to the next member of its payer's team, in turn. Returns the assignee's id,
    or None when the payer has no team with members who work leads (the lead stays as it was)."""
    if not actor.has_perm("leads.assign_submission"):
        raise AssignmentNotAllowedError("Only a manager assigns leads to others.")
    if submission.payer_id is None:
        return None
    # Locked so two leads of the same payer assigned at once go to two members.
    team = (
        PayerTeam.objects.select_for_update()
        .filter(payer_id=submission.payer_id, round_robin=True)
        .first()
    )
    if team is None:
        return None
    # Members who no longer work leads (left, or moved to Marketing) are skipped, not given
    # leads they cannot open.
    member_ids = list(
        team.members.filter(pk__in=staff_who_work_leads().values("pk"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not member_ids:
        return None
    chosen = member_ids[team.next_position % len(member_ids)]
    team.next_position = (team.next_position + 1) % len(member_ids)
    team.save(update_fields=["next_position"])
    submission_assignee_set(submission_id=submission.pk, assignee_id=chosen)
    submission.assignee_id = chosen
    return chosen


# --- Payer mapping -------------------------------------------------------------------------------


@transaction.atomic
def payer_text_map(*, text: str, payer: Payer, actor: Actor) -> int:
    """Teach the matcher that ``text`` means ``payer`` (a staff alias) and re-resolve every lead
    still waiting for a payer that the matcher now resolves. Returns how many leads resolved.

    The alias moves the payer directory's revision token, so every process's matcher (intake
    included) uses it from its next match on.
    """
    from apps.payers.models import PayerAlias
    from apps.payers.selectors import payer_match
    from apps.payers.services import payer_alias_add

    payer_alias_add(payer=payer, alias=text, source=PayerAlias.Source.STAFF, actor=_user(actor))
    resolved = 0
    for waiting_text in submission_payer_texts_waiting():
        match = payer_match(text=waiting_text)
        if match.payer is None or match.slug is None:
            continue
        resolved += submission_payer_resolve(
            submission_ids=submission_ids_waiting_for_payer(text=waiting_text),
            payer_id=match.payer.pk,
            payer_slug=match.slug,
        )
    return resolved


# --- PHI -----------------------------------------------------------------------------------------


def lead_phi_reveal(
    *,
    submission: Submission,
    actor: Actor,
    fields: Sequence[str],
    request: HttpRequest | None = None,
    reason: str = "",
) -> dict[str, str]:
    """The named PHI fields in clear, for a user with ``leads.reveal_phi``; every reveal writes an
    audit row (who, which lead, which fields, from where, why when given).

    ``fields`` are submission fields (``REVEALABLE_FIELDS``, returned in clear) and timeline
    groups (``TIMELINE_PHI``: the caller shows those rows in clear once this returns).
    """
    from apps.privacy.services import audit_record

    if not actor.has_perm("leads.reveal_phi"):
        raise PhiRevealNotAllowedError("Your role does not reveal health information.")
    unknown = set(fields) - set(REVEALABLE_FIELDS) - set(TIMELINE_PHI)
    if unknown or not fields:
        raise VerificationInvalidError("Name the health information fields to reveal.")
    audit_record(
        actor=_user(actor),
        action="phi_reveal",
        target=submission,
        fields=list(fields),
        request=request,
        reason=reason,
    )
    return {name: _plain(getattr(submission, name)) for name in fields if name in REVEALABLE_FIELDS}


def card_image_open(
    *, card_image: CardImage, actor: Actor, request: HttpRequest | None = None
) -> bytes:
    """The decrypted bytes of a card image, for a user with ``leads.reveal_phi``; audited."""
    from apps.privacy.phi_files import phi_file_read
    from apps.privacy.services import audit_record

    if not actor.has_perm("leads.reveal_phi"):
        raise PhiRevealNotAllowedError("Your role does not open insurance cards.")
    audit_record(
        actor=_user(actor),
        action="card_image_download",
        target=card_image.submission,
        fields=[f"card_image_{card_image.side}"],
        request=request,
        details={"card_image_id": card_image.pk, "side": card_image.side},
    )
    return phi_file_read(name=card_image.storage_name)


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _user(actor: Actor) -> Any:
    # The admin only serves authenticated staff; an anonymous actor records nobody.
    return actor if actor.is_authenticated else None
