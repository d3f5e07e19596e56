"""Beat classes and the Holter summary: each recorded beat's class (AAMI N, S, V, F, Q) and its
probability, the recording's start and Holter summary (JSON); the patient an audit line concerns
(views of patient data are audited, and the audit page filters by patient).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('recording_beats') as batch:
        batch.add_column(sa.Column('beat_class', sa.String(length=1), nullable=True))
        batch.add_column(sa.Column('class_confidence', sa.Float(), nullable=True))
    with op.batch_alter_table('recordings') as batch:
        batch.add_column(sa.Column('start_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('holter', sa.Text(), nullable=True))
    with op.batch_alter_table('audit_events') as batch:
        batch.add_column(sa.Column('patient_id', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_audit_events_patient_id'), 'audit_events', ['patient_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_audit_events_patient_id'), table_name='audit_events')
    # In place (SQLite 3.35+), never by copy-and-move: see 0002's downgrade.
    with op.batch_alter_table('audit_events', recreate='never') as batch:
        batch.drop_column('patient_id')
    with op.batch_alter_table('recordings', recreate='never') as batch:
        batch.drop_column('holter')
        batch.drop_column('start_at')
    with op.batch_alter_table('recording_beats', recreate='never') as batch:
        batch.drop_column('class_confidence')
        batch.drop_column('beat_class')
