"""Every action the portal records has a name on the audit page, in both languages."""

import ast
from pathlib import Path

from portal.audit.routes import ACTION_LABELS

PORTAL = Path(__file__).resolve().parents[2] / "portal"


def recorded_actions() -> set[str]:
    """The literal action names passed to ``audit.record(...)`` anywhere in the portal."""
    actions = set()
    for path in PORTAL.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "record" and node.args
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                actions.add(node.args[0].value)
    return actions


def test_every_recorded_action_has_a_label():
    actions = recorded_actions()
    assert len(actions) > 40  # the scan finds the calls
    assert sorted(actions - ACTION_LABELS.keys()) == []
