"""IAM-style users and their access keys.

The server's storage layer reads accounts_accesskey / accounts_iamuser with raw
SQL (access_key_id, secret_ciphertext, status, user_id, name), so those table
and column names are part of a contract: change them only together.
"""
from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

# IAM's user-name rule: 1-64 of letters, digits and + = , . @ _ -
USER_NAME_PATTERN = r"^[A-Za-z0-9+=,.@_-]{1,64}$"


class IamUser(models.Model):
    name = models.CharField(
        max_length=64, unique=True,
        validators=[RegexValidator(USER_NAME_PATTERN, "User names use letters, digits and +=,.@_- (at most 64).")])
    created_at = models.DateTimeField(auto_now_add=True)
    # The user's own policy attachments (IAM's AttachUserPolicy); a join table,
    # so accounts_iamuser's columns are unchanged.
    policies = models.ManyToManyField("Policy", related_name="users", blank=True)

    class Meta:
        db_table = "accounts_iamuser"
        ordering = ["name"]
        verbose_name = "IAM user"

    def __str__(self) -> str:
        return self.name

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{settings.EXTENDDB_ACCOUNT_ID}:user/{self.name}"


class AccessKey(models.Model):
    ACTIVE = "Active"
    INACTIVE = "Inactive"
    STATUS_CHOICES = [(ACTIVE, "Active"), (INACTIVE, "Inactive")]

    # Generated IDs are AWS-shaped (AKIA + 16); imported ones may be up to 128.
    access_key_id = models.CharField(max_length=128, unique=True)
    # Fernet token (accounts.crypto); the secret is never stored in clear.
    secret_ciphertext = models.BinaryField()
    user = models.ForeignKey(IamUser, on_delete=models.CASCADE, related_name="access_keys")
    status = models.CharField(max_length=8, choices=STATUS_CHOICES, default=ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # After this instant the key is refused as if inactive (checked at every request against
    # the cached value, so no cache invalidation is needed). Rotation sets it on the old key.
    expires_at = models.DateTimeField(
        null=True, blank=True,
        help_text="Requests signed with the key are refused from this time on (empty: never expires).")

    class Meta:
        db_table = "accounts_accesskey"
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.access_key_id

    def __repr__(self) -> str:  # never include the ciphertext
        return f"<AccessKey {self.access_key_id} {self.status} user={self.user_id}>"

    @property
    def expired(self) -> bool:
        from django.utils import timezone

        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def effective_status(self) -> str:
        """What a request signed with the key meets: Active, Inactive or Expired."""
        if self.status == self.ACTIVE and self.expired:
            return "Expired"
        return self.status


# --- groups and policies ------------------------------------------------------
# IAM's rules for group and policy names: 1-128 of letters, digits and + = , . @ _ -
GROUP_NAME_PATTERN = r"^[A-Za-z0-9+=,.@_-]{1,128}$"
POLICY_NAME_PATTERN = r"^[A-Za-z0-9+=,.@_-]{1,128}$"
# The built-in full-access policy (data migration 0003); `createkey` attaches it by default.
ADMINISTRATOR_ACCESS = "AdministratorAccess"


class Policy(models.Model):
    """An identity-based policy document (IAM's JSON policy language).

    Attached to users and groups; a user's effective policies are its own plus
    those of its groups (see accounts.policy for evaluation).
    """

    name = models.CharField(
        max_length=128, unique=True,
        validators=[RegexValidator(POLICY_NAME_PATTERN, "Policy names use letters, digits and +=,.@_- (at most 128).")])
    description = models.TextField(blank=True, max_length=1000)
    document = models.JSONField(help_text='IAM policy JSON: {"Version": "2012-10-17", "Statement": [...]}')
    # Built-in policies (AdministratorAccess) come from a data migration.
    builtin = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "accounts_policy"
        ordering = ["name"]
        verbose_name_plural = "policies"

    def __str__(self) -> str:
        return self.name

    @property
    def arn(self) -> str:
        if self.builtin:
            return f"arn:aws:iam::aws:policy/{self.name}"
        return f"arn:aws:iam::{settings.EXTENDDB_ACCOUNT_ID}:policy/{self.name}"

    def clean(self) -> None:
        super().clean()
        self._check_document()

    def save(self, *args, **kwargs) -> None:
        # Also when saved without full_clean(): a broken document never reaches the server.
        self._check_document()
        super().save(*args, **kwargs)

    def _check_document(self) -> None:
        from django.core.exceptions import ValidationError

        from .policy_validation import validate_policy_document

        problems = validate_policy_document(self.document)
        if problems:
            raise ValidationError({"document": problems})


class Group(models.Model):
    name = models.CharField(
        max_length=128, unique=True,
        validators=[RegexValidator(GROUP_NAME_PATTERN, "Group names use letters, digits and +=,.@_- (at most 128).")])
    users = models.ManyToManyField(IamUser, related_name="groups", blank=True)
    policies = models.ManyToManyField(Policy, related_name="groups", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "accounts_group"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{settings.EXTENDDB_ACCOUNT_ID}:group/{self.name}"
