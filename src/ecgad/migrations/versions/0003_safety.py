"""Safety: warnings stored with each analysis, a recording's readable parts, server-side sessions
(which replace the users' session epoch).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('analyses') as batch:
        # JSON list of {"code", "message"}: what the analysis should be read with (data fit, signal quality)
        batch.add_column(sa.Column('warnings', sa.Text(), server_default='[]', nullable=False))
    with op.batch_alter_table('recordings') as batch:
        batch.add_column(sa.Column('readable_fraction', sa.Float(), nullable=True))
        # JSON list of [start_sample, end_sample, reason]: parts left out of beats and heart rate
        batch.add_column(sa.Column('unreadable', sa.Text(), server_default='[]', nullable=False))
    op.create_table('user_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions'))
    )
    op.create_index(op.f('ix_user_sessions_user_id'), 'user_sessions', ['user_id'], unique=False)
    # In place (SQLite 3.35+), never by copy-and-move: see 0002's downgrade.
    with op.batch_alter_table('users', recreate='never') as batch:
        batch.drop_column('session_epoch')


def downgrade() -> None:
    with op.batch_alter_table('users', recreate='never') as batch:
        batch.add_column(sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False))
    op.drop_index(op.f('ix_user_sessions_user_id'), table_name='user_sessions')
    op.drop_table('user_sessions')
    # In place (SQLite 3.35+), never by copy-and-move: see 0002's downgrade.
    with op.batch_alter_table('recordings', recreate='never') as batch:
        batch.drop_column('unreadable')
        batch.drop_column('readable_fraction')
    with op.batch_alter_table('analyses', recreate='never') as batch:
        batch.drop_column('warnings')
