"""Every option of every ExtendDB management command says what it does (`--help`)."""
from __future__ import annotations

import argparse

import pytest
from django.core.management import get_commands, load_command_class

OURS = ("accounts", "storage", "wireapi", "console", "extenddb_site")
COMMANDS = sorted((name, app) for name, app in get_commands().items() if app in OURS)


def test_the_serve_command_is_among_them():
    assert ("serve", "wireapi") in COMMANDS and ("rotatemasterkey", "accounts") in COMMANDS


@pytest.mark.parametrize(("name", "app"), COMMANDS)
def test_every_option_has_a_help_text(name, app):
    command = load_command_class(app, name)
    parser = command.create_parser("manage.py", name)
    missing = [action.option_strings or [action.dest] for action in parser._actions
               if not isinstance(action, argparse._HelpAction) and not action.help]
    assert not missing, f"{name}: options without help: {missing}"
    assert command.help, f"{name} has no help text"
