"""Who may do what: the four staff roles as Django groups, and the permissions of each.

``ROLE_PERMISSIONS`` is the one source of truth (DESIGN.md, Roles). A data migration applies it
and every ``migrate`` re-applies it (post_migrate), so a group holds exactly these permissions:
one added by hand in the admin is removed at the next deploy. Other apps add their custom
permissions here when they define them on their models' ``Meta.permissions``.

Marketing must reach no PHI: nothing from leads (people, submissions, consents, card images),
no messages or texts (followups), no audit log. ``tests/staff/test_roles.py`` checks every
admin page against that.
"""

from __future__ import annotations

ADMISSIONS = "Admissions"
MANAGER = "Manager"
MARKETING = "Marketing"
COMPLIANCE = "Compliance"

# Custom permissions and the model each belongs to ("app_label.model"), so a missing row can be
# created before the model's own Meta declares it (another branch may add that later).
CUSTOM_PERMISSIONS: dict[str, tuple[str, str]] = {
    "leads.reveal_phi": ("leads.submission", "Can reveal PHI (audited)"),
    "leads.assign_submission": ("leads.submission", "Can assign submissions to staff"),
    "marketing.export_contacts": ("marketing.exportdestination", "Can export marketable contacts"),
    "marketing.view_attribution_report": (
        "marketing.exportdestination",
        "Can view the attribution report",
    ),
}

_ADMISSIONS = frozenset(
    {
        # Leads: read everything (PHI masked), reveal with a reason, work them (touches,
        # status, notes, revocations heard on the phone: the change permissions, which
        # Compliance does not have).
        "leads.view_person",
        "leads.change_person",
        "leads.view_submission",
        "leads.change_submission",
        "leads.view_consent",
        "leads.view_consentwording",
        "leads.view_cardimage",
        "leads.reveal_phi",
        # Messages to and from the people they work with.
        "followups.view_outboxmessage",
        "followups.view_inboundtext",
        "followups.view_suppression",
        "followups.add_suppression",
        # The payer directory, and mapping typed names the matcher could not resolve.
        "payers.view_payer",
        "payers.view_payeralias",
        "payers.add_payeralias",
        "books.view_bookdownload",
    }
)

_MANAGER = _ADMISSIONS | frozenset(
    {
        "leads.assign_submission",
        # Payer teams for round-robin assignment.
        "admissions.view_payerteam",
        "admissions.add_payerteam",
        "admissions.change_payerteam",
        "admissions.delete_payerteam",
        # Payer directory.
        "payers.change_payer",
        "payers.change_payeralias",
        "payers.delete_payeralias",
        "payers.view_payerdirectoryrevision",
        # Failed messages (retry), escalation sequences.
        "followups.change_outboxmessage",
        "followups.view_outboxattempt",
        "followups.view_sequence",
        "followups.change_sequence",
        "followups.view_sequencestep",
        "followups.add_sequencestep",
        "followups.change_sequencestep",
        "followups.delete_sequencestep",
        # Reports and the audit log.
        "marketing.export_contacts",
        "marketing.view_attribution_report",
        "marketing.view_exportrun",
        "marketing.view_exportdestination",
        "marketing.add_exportdestination",
        "marketing.view_exporttoken",
        "marketing.add_exporttoken",
        "privacy.view_auditevent",
    }
)

_MARKETING = frozenset(
    {
        "marketing.export_contacts",
        "marketing.view_attribution_report",
        # Export runs (progress, download links), destinations, sync tokens: no PHI.
        "marketing.view_exportrun",
        "marketing.view_exportdestination",
        "marketing.add_exportdestination",
        "marketing.view_exporttoken",
        "marketing.add_exporttoken",
        "payers.view_payer",
        # Download counts per signup (reference, time, browser): no PHI.
        "books.view_bookdownload",
    }
)

_COMPLIANCE = frozenset(
    {
        "privacy.view_auditevent",
        # Read-only elsewhere, PHI masked (no reveal).
        "leads.view_person",
        "leads.view_submission",
        "leads.view_consent",
        "leads.view_consentwording",
        "followups.view_outboxmessage",
        "followups.view_outboxattempt",
        "followups.view_inboundtext",
        "followups.view_suppression",
        "followups.view_sequence",
        "followups.view_sequencestep",
        "payers.view_payer",
        "payers.view_payeralias",
        "payers.view_payerdirectoryrevision",
        "books.view_bookdownload",
    }
)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    ADMISSIONS: _ADMISSIONS,
    MANAGER: _MANAGER,
    MARKETING: _MARKETING,
    COMPLIANCE: _COMPLIANCE,
}
