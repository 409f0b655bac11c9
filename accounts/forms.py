"""Admin forms: the policy JSON editor."""
from __future__ import annotations

import json
from typing import Any

from django import forms

from .models import Policy


class PrettyJSONField(forms.JSONField):
    """A JSON textarea that shows the stored document indented, as IAM's console does."""

    widget = forms.Textarea(attrs={"rows": 24, "cols": 100, "spellcheck": "false", "class": "json-editor"})

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value  # what the admin typed, so they can fix it
        return json.dumps(value, indent=2, ensure_ascii=False, cls=self.encoder)


class PolicyForm(forms.ModelForm):
    document = PrettyJSONField(
        help_text='An IAM policy: {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
                  '"Action": "dynamodb:GetItem", "Resource": "arn:aws:dynamodb:*:*:table/Patients"}]}')

    class Meta:
        model = Policy
        fields = ("name", "description", "document")

    def clean_document(self) -> Any:
        from .policy_validation import validate_policy_document

        document = self.cleaned_data["document"]
        problems = validate_policy_document(document)
        if problems:
            raise forms.ValidationError(problems)
        return document

    def _post_clean(self) -> None:
        # Policy.clean() checks the document again; with a document already refused
        # it would check the stale one and repeat or garble the problems.
        if "document" in self._errors:
            return
        super()._post_clean()
