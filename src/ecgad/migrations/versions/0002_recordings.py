"""Recordings: analyses of whole ECG recordings, with every beat found in them and the lead itself.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('analyses') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=16), server_default='beats', nullable=False))
    op.create_table('recordings',
    sa.Column('analysis_id', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=16), nullable=False),
    sa.Column('lead', sa.String(length=64), nullable=False),
    sa.Column('fs', sa.Float(), nullable=False),
    sa.Column('n_samples', sa.Integer(), nullable=False),
    sa.Column('mean_hr_bpm', sa.Float(), nullable=True),
    sa.Column('low_hr_bpm', sa.Float(), nullable=True),
    sa.Column('high_hr_bpm', sa.Float(), nullable=True),
    sa.Column('parts', sa.String(length=255), nullable=False),
    sa.Column('annotated_beats', sa.Integer(), nullable=True),
    sa.Column('sensitivity', sa.Float(), nullable=True),
    sa.Column('positive_predictivity', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['analysis_id'], ['analyses.id'], name=op.f('fk_recordings_analysis_id_analyses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('analysis_id', name=op.f('pk_recordings'))
    )
    op.create_table('recording_beats',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('analysis_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('sample', sa.Integer(), nullable=False),
    sa.Column('rr_s', sa.Float(), nullable=True),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('is_anomaly', sa.Boolean(), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('part_autoencoder', sa.Float(), nullable=True),
    sa.Column('part_template', sa.Float(), nullable=True),
    sa.Column('part_rhythm', sa.Float(), nullable=True),
    sa.Column('annotation', sa.String(length=4), nullable=True),
    sa.ForeignKeyConstraint(['analysis_id'], ['analyses.id'], name=op.f('fk_recording_beats_analysis_id_analyses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recording_beats')),
    sa.UniqueConstraint('analysis_id', 'position', name=op.f('uq_recording_beats_analysis_id_position'))
    )
    op.create_index('ix_recording_beats_analysis_id_score', 'recording_beats', ['analysis_id', 'score'], unique=False)
    op.create_index('ix_recording_beats_analysis_id_sample', 'recording_beats', ['analysis_id', 'sample'], unique=False)
    op.create_table('recording_chunks',
    sa.Column('analysis_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['analysis_id'], ['recordings.analysis_id'], name=op.f('fk_recording_chunks_analysis_id_recordings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('analysis_id', 'position', name=op.f('pk_recording_chunks'))
    )


def downgrade() -> None:
    op.drop_table('recording_chunks')
    op.drop_index('ix_recording_beats_analysis_id_sample', table_name='recording_beats')
    op.drop_index('ix_recording_beats_analysis_id_score', table_name='recording_beats')
    op.drop_table('recording_beats')
    op.drop_table('recordings')
    # Not recreated: on SQLite a copy-and-move drops the old table, and with foreign keys on that
    # deletes every analysis's beats (ON DELETE CASCADE). SQLite 3.35+ drops a column in place.
    with op.batch_alter_table('analyses', recreate='never') as batch:
        batch.drop_column('kind')
