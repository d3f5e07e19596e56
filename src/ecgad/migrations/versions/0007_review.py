"""The clinician's review: each recorded beat's morphology family and reviewed label (kept beside the
model's class), the recording's families and its Holter summary with the reviewed labels (JSON), and each analysis's interpretation and signature.
``signed_by_id`` has no foreign key, like audit_events.patient_id: a signature outlives its account, and
adding one would make SQLite copy the analyses table (whose drop cascades to every beat).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('recording_beats') as batch:
        batch.add_column(sa.Column('family', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('reviewed_label', sa.String(length=1), nullable=True))
    op.create_index('ix_recording_beats_analysis_id_family', 'recording_beats', ['analysis_id', 'family'],
                    unique=False)
    with op.batch_alter_table('recordings') as batch:
        batch.add_column(sa.Column('families', sa.Text(), nullable=True))
        batch.add_column(sa.Column('holter_reviewed', sa.Text(), nullable=True))
    with op.batch_alter_table('analyses') as batch:
        batch.add_column(sa.Column('interpretation', sa.Text(), nullable=True))
        batch.add_column(sa.Column('signed_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('signed_by_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('signed_by_name', sa.String(length=400), nullable=True))


def downgrade() -> None:
    # In place (SQLite 3.35+), never by copy-and-move: see 0002's downgrade.
    with op.batch_alter_table('analyses', recreate='never') as batch:
        batch.drop_column('signed_by_name')
        batch.drop_column('signed_by_id')
        batch.drop_column('signed_at')
        batch.drop_column('interpretation')
    with op.batch_alter_table('recordings', recreate='never') as batch:
        batch.drop_column('holter_reviewed')
        batch.drop_column('families')
    op.drop_index('ix_recording_beats_analysis_id_family', table_name='recording_beats')
    with op.batch_alter_table('recording_beats', recreate='never') as batch:
        batch.drop_column('reviewed_label')
        batch.drop_column('family')
