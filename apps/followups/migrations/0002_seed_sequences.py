"""The default sequences: confirmations for contact and verification, the book and its drip."""

from django.db import migrations

SEQUENCES = {
    "Contact request": ("contact", [
        (1, 0, "email", "confirmation", "confirmation"),
        (2, 0, "sms", "confirmation", "confirmation"),
    ]),
    "Insurance verification": ("verification", [
        (1, 0, "email", "confirmation", "confirmation"),
        (2, 0, "sms", "confirmation", "confirmation"),
    ]),
    "Free book": ("book", [
        (1, 0, "email", "book_delivery", "book_delivery"),
        (2, 2 * 24 * 60, "email", "drip", "book_drip_1"),
        (3, 5 * 24 * 60, "email", "drip", "book_drip_2"),
        (4, 10 * 24 * 60, "email", "drip", "book_drip_3"),
    ]),
}


def seed(apps, schema_editor):
    Sequence = apps.get_model("followups", "Sequence")
    SequenceStep = apps.get_model("followups", "SequenceStep")
    for name, (kind, steps) in SEQUENCES.items():
        sequence, _ = Sequence.objects.get_or_create(name=name, defaults={"submission_kind": kind})
        for position, delay, channel, purpose, template in steps:
            SequenceStep.objects.get_or_create(
                sequence=sequence,
                position=position,
                defaults={
                    "delay_minutes": delay,
                    "channel": channel,
                    "purpose": purpose,
                    "template": template,
                },
            )


def unseed(apps, schema_editor):
    apps.get_model("followups", "Sequence").objects.filter(name__in=SEQUENCES).delete()


class Migration(migrations.Migration):
    dependencies = [("followups", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
