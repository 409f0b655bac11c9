"""Re-encrypt every stored secret under a new master key, with no downtime.

The master key is a keyring (accounts.crypto): the first key encrypts, every key
decrypts, and servers re-read DATA_DIR/master.key at each use. So a rotation is:
put the new key first (old ones stay to decrypt), re-encrypt every row in one
transaction, then retire the old keys once nothing needs them. docs/operations.md
has the procedure for one host and for several servers sharing a database.
"""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.crypto import (MasterKeyError, generate_master_key, key_id, keyring, opens_with, reencrypt,
                             write_keyring)
from accounts.keys import bump_generation
from accounts.models import AccessKey


class Command(BaseCommand):
    help = ("Rotate the master key that encrypts access-key secrets: add a new key first in the keyring "
            "(DATA_DIR/master.key), re-encrypt every secret under it in one transaction, and keep the old key "
            "for decryption until --retire. Servers keep answering throughout.")

    def add_arguments(self, parser) -> None:
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--generate", action="store_true",
                          help="Only print a new key (for EXTENDDB_MASTER_KEY); change nothing")
        mode.add_argument("--stage", action="store_true",
                          help="Add a new key to the end of the keyring, for decryption only (the first step "
                               "with several servers: copy the keyring to every host before --promote)")
        mode.add_argument("--promote", metavar="KEY_ID",
                          help="Move the staged key with this id first, then re-encrypt every secret under it")
        mode.add_argument("--retire", action="store_true",
                          help="Re-encrypt whatever is left under the first key, check every secret opens with it "
                               "alone, then drop the other keys from the keyring")

    def handle(self, *args, generate: bool, stage: bool, promote: str | None, retire: bool, **options) -> None:
        if generate:
            self.stdout.write(generate_master_key())
            return
        try:
            source, keys = keyring()
            from_file = source != "settings"
            if (stage or promote or (not retire and len(keys) == 1)) and not from_file:
                raise CommandError(
                    "The master key comes from EXTENDDB_MASTER_KEY, which this command cannot change: set it to "
                    "'NEW,OLD' on every server (manage.py rotatemasterkey --generate prints a NEW key), then run "
                    "rotatemasterkey to re-encrypt, then --retire (see docs/operations.md).")
            if stage:
                keys = [*keys, generate_master_key()]
                write_keyring(keys)
                self._report(keys, "staged")
                return
            if promote:
                match = [k for k in keys[1:] if key_id(k) == promote]
                if not match:
                    raise CommandError(f"No staged key with id {promote} in the keyring "
                                       f"({', '.join(key_id(k) for k in keys)})")
                keys = [match[0], *(k for k in keys if k != match[0])]
                write_keyring(keys)
            elif not retire and len(keys) == 1:
                keys = [generate_master_key(), *keys]
                write_keyring(keys)
            count = self._reencrypt()
            self.stdout.write(f"REENCRYPTED={count}")
            if retire:
                self._retire(keys, from_file)
            else:
                self._report(keys, "active")
                if len(keys) > 1:
                    self.stdout.write("Old keys stay in the keyring for decryption. Once every server has this "
                                      "keyring, run `manage.py rotatemasterkey --retire`.")
        except MasterKeyError as exc:
            raise CommandError(str(exc)) from None

    def _reencrypt(self) -> int:
        """Every secret under the keyring's first key, in one transaction (row locks held,
        so no server reads half a rotation); servers reload the rows when it commits."""
        with transaction.atomic():
            keys = list(AccessKey.objects.select_for_update().only("pk", "secret_ciphertext"))
            for key in keys:
                AccessKey.objects.filter(pk=key.pk).update(secret_ciphertext=reencrypt(key.secret_ciphertext))
        bump_generation()  # update() sends no signals (PostgreSQL's triggers have bumped already)
        return len(keys)

    def _retire(self, keys: list[str], from_file: bool) -> None:
        first = keys[0]
        left = [k.access_key_id for k in AccessKey.objects.only("access_key_id", "secret_ciphertext")
                if not opens_with(k.secret_ciphertext, first)]
        if left:
            raise CommandError(f"{len(left)} secret(s) do not open with key {key_id(first)} alone "
                               f"({', '.join(left[:5])}); nothing retired")
        if from_file:
            write_keyring([first])
            self._report([first], "active")
        else:
            self._report(keys, "active")
            self.stdout.write(f"Every secret opens with {key_id(first)}: set EXTENDDB_MASTER_KEY to that key alone "
                              "on every server.")

    def _report(self, keys: list[str], what: str) -> None:
        self.stdout.write(f"MASTER_KEY_ID={key_id(keys[0])}")
        self.stdout.write(f"KEYRING={','.join(key_id(k) for k in keys)}")
        if what == "staged":
            self.stdout.write(f"STAGED_KEY_ID={key_id(keys[-1])}")
