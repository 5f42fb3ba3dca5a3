"""Assign to me, manual assignment by a manager, round-robin within a payer team."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.forms import ModelChoiceField

from apps.admissions.exceptions import AssignmentNotAllowedError, LeadChangedError
from apps.admissions.models import PayerTeam
from apps.admissions.services import lead_assign, lead_assign_round_robin, lead_assign_to_me
from apps.leads.models import Submission
from apps.payers.models import Payer
from apps.staff.roles import ADMISSIONS
from tests.admissions.factories import lead_make, staff_make

pytestmark = pytest.mark.django_db


def _assignee(lead: Submission) -> int | None:
    return Submission.objects.values_list("assignee_id", flat=True).get(pk=lead.pk)


def test_a_coordinator_takes_an_unassigned_lead(coordinator: User) -> None:
    lead = lead_make()

    lead_assign_to_me(submission=lead, actor=coordinator)

    assert _assignee(lead) == coordinator.pk


def test_a_coordinator_cannot_take_over_a_colleagues_lead(
    coordinator: User, colleague: User
) -> None:
    lead = lead_make(assignee=colleague)

    with pytest.raises(AssignmentNotAllowedError):
        lead_assign_to_me(submission=lead, actor=coordinator)
    with pytest.raises(AssignmentNotAllowedError):
        lead_assign(submission=lead_make(), assignee=colleague, actor=coordinator)

    assert _assignee(lead) == colleague.pk


def test_two_coordinators_cannot_both_take_the_same_lead(
    coordinator: User, colleague: User
) -> None:
    # Both read the lead unassigned; the colleague's "assign to me" lands first.
    lead = lead_make()
    stale_copy = Submission.objects.get(pk=lead.pk)
    lead_assign_to_me(submission=lead, actor=colleague)

    with pytest.raises(LeadChangedError):
        lead_assign_to_me(submission=stale_copy, actor=coordinator)

    assert _assignee(lead) == colleague.pk


def test_a_manager_does_not_overwrite_an_assignment_made_meanwhile(
    manager: User, coordinator: User, colleague: User
) -> None:
    lead = lead_make()
    stale_copy = Submission.objects.get(pk=lead.pk)
    lead_assign_to_me(submission=lead, actor=colleague)

    with pytest.raises(LeadChangedError):
        lead_assign(submission=stale_copy, assignee=coordinator, actor=manager)

    assert _assignee(lead) == colleague.pk


def test_a_coordinator_can_let_go_of_their_own_lead(coordinator: User) -> None:
    lead = lead_make(assignee=coordinator)

    lead_assign(submission=lead, assignee=None, actor=coordinator)

    assert _assignee(lead) is None


def test_a_manager_assigns_to_anyone(manager: User, colleague: User, coordinator: User) -> None:
    lead = lead_make(assignee=colleague)

    lead_assign(submission=lead, assignee=coordinator, actor=manager)

    assert _assignee(lead) == coordinator.pk


def test_round_robin_gives_a_payers_leads_to_its_team_in_turn(manager: User) -> None:
    payer = Payer.objects.get(slug="aetna")
    first, second = staff_make("ana", ADMISSIONS), staff_make("ben", ADMISSIONS)
    team = PayerTeam.objects.create(payer=payer)
    team.members.set([first, second])
    leads = [lead_make(payer=payer) for _ in range(3)]

    chosen = [lead_assign_round_robin(submission=lead, actor=manager) for lead in leads]

    assert chosen == [first.pk, second.pk, first.pk]
    assert [_assignee(lead) for lead in leads] == chosen


def test_round_robin_leaves_a_lead_alone_without_a_team(manager: User) -> None:
    lead = lead_make(payer=Payer.objects.get(slug="aetna"))

    assert lead_assign_round_robin(submission=lead, actor=manager) is None
    assert _assignee(lead) is None


def test_round_robin_is_for_managers(coordinator: User) -> None:
    with pytest.raises(AssignmentNotAllowedError):
        lead_assign_round_robin(submission=lead_make(), actor=coordinator)


def test_a_manager_sets_up_a_payer_team_in_the_admin(manager: User) -> None:
    from tests.conftest import staff_client_for

    client = staff_client_for(manager)
    payer = Payer.objects.get(slug="aetna")
    member = staff_make("ana", ADMISSIONS)

    response = client.post(
        "/admin/admissions/payerteam/add/",
        {"payer": payer.pk, "members": [member.pk], "round_robin": "on"},
    )

    assert response.status_code == 302
    assert list(PayerTeam.objects.get(payer=payer).members.all()) == [member]
    assert client.get("/admin/admissions/payerteam/").status_code == 200


def test_coordinators_do_not_manage_payer_teams(coordinator: User) -> None:
    from tests.conftest import staff_client_for

    response = staff_client_for(coordinator).get("/admin/admissions/payerteam/add/")
    assert response.status_code == 403


# --- Only people who work leads receive them ------------------------------------------------


def test_a_manager_cannot_give_a_lead_to_someone_who_does_not_work_leads(
    manager: User, marketer: User, auditor: User
) -> None:
    lead = lead_make()

    for outsider in (marketer, auditor):
        with pytest.raises(AssignmentNotAllowedError, match="does not work leads"):
            lead_assign(submission=lead, assignee=outsider, actor=manager)

    assert _assignee(lead) is None


def test_a_deactivated_coordinator_is_no_longer_given_leads(
    manager: User, coordinator: User
) -> None:
    coordinator.is_active = False
    coordinator.save(update_fields=["is_active"])

    with pytest.raises(AssignmentNotAllowedError):
        lead_assign(submission=lead_make(), assignee=coordinator, actor=manager)


def test_round_robin_skips_team_members_who_do_not_work_leads(
    manager: User, marketer: User, auditor: User
) -> None:
    payer = Payer.objects.get(slug="aetna")
    first, second = staff_make("ana", ADMISSIONS), staff_make("ben", ADMISSIONS)
    team = PayerTeam.objects.create(payer=payer)
    team.members.set([first, marketer, second, auditor])
    leads = [lead_make(payer=payer) for _ in range(4)]

    chosen = [lead_assign_round_robin(submission=lead, actor=manager) for lead in leads]

    assert chosen == [first.pk, second.pk, first.pk, second.pk]


def test_round_robin_leaves_the_lead_alone_when_no_member_works_leads(
    manager: User, marketer: User
) -> None:
    payer = Payer.objects.get(slug="aetna")
    PayerTeam.objects.create(payer=payer).members.set([marketer])
    lead = lead_make(payer=payer)

    assert lead_assign_round_robin(submission=lead, actor=manager) is None
    assert _assignee(lead) is None


def test_the_assign_form_and_the_team_admin_offer_only_people_who_work_leads(
    manager: User, coordinator: User, marketer: User, auditor: User
) -> None:
    from apps.admissions.forms import AssignForm
    from tests.conftest import staff_client_for

    field = AssignForm().fields["assignee"]
    assert isinstance(field, ModelChoiceField)
    offered = set(field.queryset.values_list("username", flat=True))
    assert offered == {manager.username, coordinator.username}

    response = staff_client_for(manager).post(
        "/admin/admissions/payerteam/add/",
        {"payer": Payer.objects.get(slug="aetna").pk, "members": [marketer.pk]},
    )
    assert response.status_code == 200  # the form again, with the error
    assert not PayerTeam.objects.exists()
    page = staff_client_for(manager).get("/admin/admissions/payerteam/add/").content.decode()
    assert f">{coordinator.username}</option>" in page
    assert f">{marketer.username}</option>" not in page
    assert f">{auditor.username}</option>" not in page
