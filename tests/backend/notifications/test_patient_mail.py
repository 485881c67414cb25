"""Patient e-mail goes through the disclosure policy: only a rendered Message reaches a patient's inbox, and
free-text `send_mail` is for staff account mail only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from backend.notifications.disclosure import MessageKind, render
from backend.notifications.mail import STAFF_MAIL_CALLERS, send_patient_mail
from tests.helpers import wait_until

ROOT = Path(__file__).resolve().parents[3]


def callers_of_send_mail(root: Path = ROOT) -> list[str]:
    found = []
    for path in sorted((root / "backend").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "send_mail":
                found.append(str(path.relative_to(root)))
    return sorted(set(found) - {"backend/notifications/mail.py"})


def test_free_text_mail_is_sent_only_to_staff_about_their_account():
    assert callers_of_send_mail() == sorted(STAFF_MAIL_CALLERS)


def test_a_new_free_text_caller_is_caught(tmp_path):
    (tmp_path / "backend" / "prescriptions").mkdir(parents=True)
    (tmp_path / "backend" / "prescriptions" / "ready.py").write_text(
        "def tell(p):\n    send_mail(p.email, 'Ready', f'Your {p.drug} is ready')\n"
    )
    assert callers_of_send_mail(tmp_path) == ["backend/prescriptions/ready.py"]


def test_a_patient_email_says_where_not_what(mail_sink):
    message = render(
        MessageKind.READY_FOR_PICKUP,
        {"branch": "Main Street", "chain": "Corner Pharmacy", "medicine": "Sertraline 50 mg", "rx_number": "B1-9"},
        chain_allows=False,
        patient_consented=True,
    )
    send_patient_mail("pat.ient@example.com", message)
    mails = wait_until(lambda: mail_sink.to("pat.ient@example.com"), message="the patient's e-mail")
    body = mail_sink.text(mails[-1])
    assert "ready for pickup at Main Street" in body
    assert "sertraline" not in (body + str(mails[-1]["Subject"])).lower()
    with pytest.raises(TypeError):
        send_patient_mail("pat.ient@example.com", "Your sertraline is ready")  # type: ignore[arg-type]
