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

    class Meta:
        db_table = "accounts_accesskey"
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.access_key_id

    def __repr__(self) -> str:  # never include the ciphertext
        return f"<AccessKey {self.access_key_id} {self.status} user={self.user_id}>"
