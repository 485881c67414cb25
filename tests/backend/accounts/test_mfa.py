"""TOTP enrolment, sign-in codes, replay refusal and recovery codes."""

from __future__ import annotations

import time

import pyotp
import pytest
from sqlalchemy import text

from backend.accounts.mfa import (
    PURPOSE,
    confirm_enrolment,
    disable_mfa,
    mfa_enabled,
    remaining_recovery_codes,
    start_enrolment,
    verify_second_factor,
)
from backend.core.crypto import decrypt
from backend.core.errors import ValidationFailed


def secret_of(db, user_id) -> str:
    db.execute(text("RESET ROLE"))
    stored = db.execute(text("SELECT secret_encrypted FROM user_mfa WHERE user_id = :u"), {"u": user_id}).scalar_one()
    secret = decrypt(PURPOSE, stored)
    assert secret and secret not in stored  # encrypted at rest
    return secret


def test_enrol_sign_in_replay_and_recovery(db, make_tenant):
    chain = make_tenant("mfa")
    user = str(chain.owner_user_id)
    enrolment = start_enrolment(user, "owner@mfa.example")
    assert enrolment.qr_svg_data_uri.startswith("data:image/svg+xml;base64,")
    assert "otpauth://totp/Pharmacy%20Cloud:owner%40mfa.example" in enrolment.otpauth_uri
    secret = secret_of(db, chain.owner_user_id)
    assert enrolment.manual_key.replace(" ", "") == secret
    assert not mfa_enabled(user)

    now = time.time()
    totp = pyotp.TOTP(secret)
    with pytest.raises(ValidationFailed):
        confirm_enrolment(user, "000000" if totp.at(now) != "000000" else "111111", now=now)
    codes = confirm_enrolment(user, totp.at(now - 30), now=now)  # one step of drift is fine
    assert mfa_enabled(user) and len(codes) == 10 and len(set(codes)) == 10

    assert verify_second_factor(user, totp.at(now), now=now)
    assert not verify_second_factor(user, totp.at(now), now=now)  # replay in the same window
    assert not verify_second_factor(user, totp.at(now - 30), now=now)  # an older step, also spent
    assert verify_second_factor(user, totp.at(now + 30), now=now + 30)
    assert not verify_second_factor(user, totp.at(now + 3600), now=now + 30)  # far future: wrong

    assert verify_second_factor(user, codes[0].upper())
    assert not verify_second_factor(user, codes[0])  # single use
    assert remaining_recovery_codes(user) == 9
    db.execute(text("RESET ROLE"))
    stored = (
        db.execute(text("SELECT code_hash FROM recovery_codes WHERE user_id = :u"), {"u": chain.owner_user_id})
        .scalars()
        .all()
    )
    assert codes[1] not in stored  # hashed

    with pytest.raises(ValidationFailed):
        disable_mfa(user, "123456")
    disable_mfa(user, codes[1])
    assert not mfa_enabled(user)


def test_one_user_cannot_read_anothers_secret(db, make_tenant):
    a, b = make_tenant("mfa-a"), make_tenant("mfa-b")
    start_enrolment(str(a.owner_user_id), "a@example.com")
    from tenants.session import user_session

    with user_session(str(b.owner_user_id)) as session:
        assert session.execute(text("SELECT count(*) FROM user_mfa")).scalar_one() == 0
