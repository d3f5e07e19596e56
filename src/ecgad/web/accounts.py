"""Account operations shared by the admin pages and the ``ecgad users`` command."""
from __future__ import annotations

from sqlalchemy import func, select

from . import audit, sessions
from .extensions import db
from .forms import looks_like_email
from .models import ROLES, Patient, User
from .security import PasswordPolicyError, check_password_policy, hash_password


class AccountError(ValueError):
    """Why an account operation cannot be done, for people."""


def normalise_email(email: str) -> str:
    value = (email or "").strip().lower()
    if not looks_like_email(value):
        raise AccountError(f"{email!r} is not an email address like name@example.org")
    if len(value) > 254:
        raise AccountError("the email address is longer than 254 characters")
    return value


def create_user(email: str, password: str, role: str, name: str = "", *, via: str = "") -> User:
    """Create an account (in the current app context) and audit it; raises AccountError."""
    email = normalise_email(email)
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    _check_password(password, email, name)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError(f"an account with the email address {email} exists already")
    user = User(email=email, name=(name or "").strip()[:120], role=role, password_hash=hash_password(password),
                active=True)
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", "user", user.id, f"email={email}; role={role}" + (f"; via {via}" if via else ""))
    db.session.commit()
    return user


def _check_password(password: str, email: str, name: str = "") -> None:
    try:
        check_password_policy(password, email, name)
    except PasswordPolicyError as exc:
        raise AccountError(str(exc)) from None


def _via(via: str) -> str:
    return f"; via {via}" if via else ""


def find_user(email: str) -> User:
    """The account with this email address; raises AccountError."""
    address = (email or "").strip().lower()
    user = db.session.scalar(select(User).where(User.email == address))
    if user is None:
        raise AccountError(f"there is no account with the email address {address}" if address
                           else "give the account's email address")
    return user


def set_password(user: User, password: str, *, keep_current_session: bool = False, via: str = "") -> None:
    """Give ``user`` a new password (checked by the policy) and end their sessions; audited and
    committed. ``keep_current_session``: the user changes their own, this session goes on."""
    _check_password(password, user.email, user.name)
    user.password_hash = hash_password(password)
    sessions.end_all(user, keep_current=keep_current_session)
    if keep_current_session:
        audit.record("user.password_change", "user", user.id)
    else:
        audit.record("user.password_reset", "user", user.id, f"email={user.email}{_via(via)}")
    db.session.commit()


def deactivate(user: User, *, via: str = "") -> bool:
    """Deactivate ``user`` and end their sessions (False: already deactivated). An admin only while
    another active admin remains, so that someone can still manage the accounts."""
    if not user.active:
        return False
    if user.is_admin:
        admins = db.session.scalar(select(func.count()).select_from(User)
                                   .where(User.role == "admin", User.active.is_(True), User.id != user.id))
        if not admins:
            raise AccountError(f"{user.email} is the last active admin: create or reactivate another admin first")
    user.active = False
    sessions.end_all(user)
    audit.record("user.deactivate", "user", user.id, f"email={user.email}{_via(via)}")
    db.session.commit()
    return True


def reactivate(user: User, *, via: str = "") -> bool:
    """Let ``user`` sign in again (False: already active)."""
    if user.active:
        return False
    user.active = True
    audit.record("user.reactivate", "user", user.id, f"email={user.email}{_via(via)}")
    db.session.commit()
    return True


def active_doctors(excluding: User | None = None) -> list[User]:
    query = select(User).where(User.role == "doctor", User.active.is_(True)).order_by(func.lower(User.email))
    if excluding is not None:
        query = query.where(User.id != excluding.id)
    return list(db.session.scalars(query))


def reassign_patients(source: User, target: User) -> int:
    """Move all of ``source``'s patients (and so their analyses) to the active doctor ``target``.

    All or nothing: when ``target`` already has a patient with one of the same record numbers
    (unique per doctor), nothing moves. Each move is audited; returns how many moved.
    """
    if target.role != "doctor" or not target.active:
        raise AccountError(f"{target.email} is not an active doctor: patients go to an active doctor's care")
    if target.id == source.id:
        raise AccountError("choose another doctor than the patients' own")
    patients = list(db.session.scalars(select(Patient).where(Patient.doctor_id == source.id).order_by(Patient.id)))
    clashes = sorted(set(db.session.scalars(select(Patient.identifier).where(
        Patient.doctor_id == target.id, Patient.identifier.in_([p.identifier for p in patients])))))
    if clashes:
        shown = ", ".join(clashes[:10]) + (f" and {len(clashes) - 10} more" if len(clashes) > 10 else "")
        raise AccountError(f"nothing was moved: {target.email} already has patients with the record numbers "
                           f"{shown}, and a record number names one patient per doctor; their doctor must change "
                           "one of each pair on the patient's page first")
    for patient in patients:
        patient.doctor_id = target.id
        audit.record("patient.reassign", "patient", patient.id, f"from {source.email} to {target.email}",
                     patient_id=patient.id)
    db.session.commit()
    return len(patients)
