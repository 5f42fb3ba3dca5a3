"""Model fields that encrypt PHI in the application before it reaches the database.

The Python value is plaintext; the column holds ``f1:<key id>:<token>`` text. Encrypted columns
cannot be searched or ordered: look values up through a blind index instead (``crypto.blind_index``).
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Expression

from apps.privacy import crypto


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


class EncryptedDateField(EncryptedTextField):
    """A date (ISO 8601) stored encrypted."""

    description = "Date encrypted with the PHI keys"

    def to_python(self, value: Any) -> Any:
        if value is None or value == "" or isinstance(value, datetime.date):
            return value
        return datetime.date.fromisoformat(str(value))

    def to_plaintext(self, value: Any) -> str:
        return self.to_python(value).isoformat()  # type: ignore[no-any-return]

    def from_plaintext(self, plaintext: str) -> Any:
        return datetime.date.fromisoformat(plaintext)


class EncryptedJSONField(EncryptedTextField):
    """A JSON document (verification results, benefit details) stored encrypted."""

    description = "JSON encrypted with the PHI keys"

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        return crypto.encrypt(json.dumps(value, sort_keys=True, default=str))

    def from_plaintext(self, plaintext: str) -> Any:
        return json.loads(plaintext)

    def value_to_string(self, obj: models.Model) -> str:
        return json.dumps(self.value_from_object(obj), default=str)
