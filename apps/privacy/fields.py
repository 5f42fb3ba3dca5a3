"""Model fields that encrypt PHI in the application before it reaches the database.

The Python value is plaintext; the column holds ``f1:<key id>:<token>`` text. Encrypted columns
cannot be searched or ordered: look values up through a blind index instead
(``crypto.blind_index``). Lookups that would silently match nothing (``message="x"`` compares
against a fresh, randomized ciphertext) raise ``FieldError`` instead; ``isnull`` and ``= ""``
still work, because empty values are stored as they are.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from django import forms
from django.core.exceptions import FieldError, ValidationError
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Expression
from django.db.models.lookups import Exact, IsNull, Lookup
from django.utils import timezone

from apps.privacy import crypto


class _EmptyOnlyExact(Exact):  # type: ignore[type-arg]
    """``field=""`` compares with the stored empty string; any other value cannot match."""

    def get_prep_lookup(self) -> Any:
        if self.rhs != "":
            raise FieldError(
                f"{self.lhs.output_field.name} is encrypted: it cannot be compared with a value. "
                "Look it up through a blind index instead."
            )
        return super().get_prep_lookup()


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """Free text stored encrypted. Empty strings are stored as empty (nothing to protect)."""

    description = "Text encrypted with the PHI keys"

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(self.to_plaintext(value))

    def from_db_value(
        self, value: str | None, expression: Expression, connection: BaseDatabaseWrapper
    ) -> Any:
        if value is None or value == "":
            return value
        return self.from_plaintext(crypto.decrypt(value))

    def to_plaintext(self, value: Any) -> str:
        return str(value)

    def from_plaintext(self, plaintext: str) -> Any:
        return plaintext

    def get_internal_type(self) -> str:
        return "TextField"

    def get_lookup(self, lookup_name: str) -> type[Lookup[Any]] | None:
        # Ciphertext is randomized: every comparison but "is it empty?" would quietly match
        # nothing (or garbage, for LIKE and ranges), so only those two are offered.
        if lookup_name == "isnull":
            return IsNull
        if lookup_name == "exact":
            return _EmptyOnlyExact
        return None

    def get_transform(self, lookup_name: str) -> Any:
        return None


class EncryptedDateField(EncryptedTextField):
    """A date (ISO 8601) stored encrypted."""

    description = "Date encrypted with the PHI keys"

    def to_python(self, value: Any) -> Any:
        if value is None or value == "":
            return value
        if isinstance(value, datetime.datetime):
            # As DateField does: an aware datetime is a date in the current time zone. Storing
            # the datetime's own ISO text would not read back as a date.
            if timezone.is_aware(value):
                value = timezone.make_naive(value)
            return value.date()
        if isinstance(value, datetime.date):
            return value
        try:
            return datetime.date.fromisoformat(str(value))
        except ValueError:
            raise ValidationError(
                "Enter a valid date in YYYY-MM-DD format.", code="invalid_date"
            ) from None

    def to_plaintext(self, value: Any) -> str:
        return self.to_python(value).isoformat()  # type: ignore[no-any-return]

    def from_plaintext(self, plaintext: str) -> Any:
        return datetime.date.fromisoformat(plaintext)

    def formfield(
        self,
        form_class: type[forms.Field] | None = None,
        choices_form_class: type[forms.ChoiceField] | None = None,
        **kwargs: Any,
    ) -> forms.Field | None:
        # Field.formfield, not TextField's: that one adds a Textarea and max_length.
        return models.Field.formfield(
            self, form_class or forms.DateField, choices_form_class, **kwargs
        )


class EncryptedJSONField(EncryptedTextField):
    """A JSON document (verification results, benefit details) stored encrypted."""

    description = "JSON encrypted with the PHI keys"

    def to_python(self, value: Any) -> Any:
        # The inherited TextField.to_python would turn a dict into its repr on full_clean().
        return value

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        return crypto.encrypt(json.dumps(value, sort_keys=True, default=str))

    def from_plaintext(self, plaintext: str) -> Any:
        return json.loads(plaintext)

    def value_to_string(self, obj: models.Model) -> str:
        return json.dumps(self.value_from_object(obj), default=str)

    def formfield(
        self,
        form_class: type[forms.Field] | None = None,
        choices_form_class: type[forms.ChoiceField] | None = None,
        **kwargs: Any,
    ) -> forms.Field | None:
        return models.Field.formfield(
            self, form_class or forms.JSONField, choices_form_class, **kwargs
        )
