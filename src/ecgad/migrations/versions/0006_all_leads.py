"""Every lead of a recording: its chunks are keyed by lead too (``lead_index``, 0 the analysed lead, as
every chunk stored before), and the recording lists the names of the leads it stores (``leads``, JSON;
NULL for recordings stored before, which hold their analysed lead only).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('recordings') as batch:
        batch.add_column(sa.Column('leads', sa.Text(), nullable=True))
    # A new primary key: on SQLite the table is copied (nothing refers to recording_chunks, so dropping
    # the old copy cascades to nothing); on PostgreSQL the key is altered in place.
    with op.batch_alter_table('recording_chunks', recreate='auto') as batch:
        batch.add_column(sa.Column('lead_index', sa.Integer(), nullable=False, server_default='0'))
        batch.drop_constraint('pk_recording_chunks', type_='primary')
        batch.create_primary_key('pk_recording_chunks', ['analysis_id', 'lead_index', 'position'])


def downgrade() -> None:
    # Back to one lead: the other leads' chunks go, the analysed lead (0) stays.
    op.execute("DELETE FROM recording_chunks WHERE lead_index <> 0")
    with op.batch_alter_table('recording_chunks', recreate='auto') as batch:
        batch.drop_constraint('pk_recording_chunks', type_='primary')
        batch.create_primary_key('pk_recording_chunks', ['analysis_id', 'position'])
        batch.drop_column('lead_index')
    with op.batch_alter_table('recordings', recreate='never') as batch:
        batch.drop_column('leads')
