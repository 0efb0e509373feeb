"""initial schema: PostGIS, the whole data model, default categories and units

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 11:42:15.152845

"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


CATEGORIES = [
    # code, name, name_en, deadline days, look-back days, duplicate radius m
    ("roads", "道路交通", "Roads and traffic", 30, 30, 200),
    ("drainage", "排水防涝", "Drainage and flooding", 20, 30, 150),
    ("sanitation", "环境卫生", "Rubbish and sanitation", 10, 14, 150),
    ("parking", "停车秩序", "Parking", 15, 30, 150),
    ("old_estates", "老旧小区", "Old housing estates", 60, 30, 100),
    ("safety", "安全隐患", "Safety hazards", 7, 14, 100),
    ("greening", "园林绿化", "Greening", 30, 30, 200),
    ("utilities", "水电气", "Water, power and gas", 20, 30, 200),
    ("public_services", "公共服务", "Public services", 30, 30, 300),
    ("pollution", "环境污染", "Pollution", 20, 30, 500),
    ("other", "其他", "Other", 30, 30, 250),
]

UNITS = [
    ("housing", "区住房和城乡建设局", "Housing and Urban-Rural Development Bureau"),
    ("transport", "区交通运输局", "Transport Bureau"),
    ("water", "区水务局", "Water Affairs Bureau"),
    ("sanitation", "区综合行政执法局", "Urban Management and Law Enforcement Bureau"),
    ("ecology", "生态环境分局", "Ecology and Environment Branch"),
    ("natural_resources", "区自然资源和规划局", "Natural Resources and Planning Bureau"),
    ("traffic_police", "公安分局交警大队", "Traffic Police"),
    ("education", "区教育局", "Education Bureau"),
    ("health", "区卫生健康局", "Health Commission"),
    ("civil_affairs", "区民政局", "Civil Affairs Bureau"),
    ("agriculture", "区农业农村局", "Agriculture and Rural Affairs Bureau"),
    ("market", "区市场监督管理局", "Market Regulation Bureau"),
    ("power", "供电公司", "Power Supply Company"),
    ("gas", "燃气公司", "Gas Company"),
]


def upgrade():
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    #: issue refs FW-<year>-<n> draw n from here
    op.execute("CREATE SEQUENCE IF NOT EXISTS issue_ref_seq")
    op.create_geospatial_table('areas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('boundary', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('location', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.ForeignKeyConstraint(['parent_id'], ['areas.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('areas', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_areas_boundary', ['boundary'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_geospatial_index('idx_areas_location', ['location'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_areas_level'), ['level'], unique=False)
        batch_op.create_index(batch_op.f('ix_areas_parent_id'), ['parent_id'], unique=False)

    op.create_table('categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=True),
    sa.Column('deadline_days', sa.Integer(), nullable=False),
    sa.Column('lookback_days', sa.Integer(), nullable=False),
    sa.Column('duplicate_radius_m', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('login_throttle',
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('settings',
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('value', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_geospatial_table('stations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('location', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('area_id', sa.Integer(), nullable=True),
    sa.Column('township_id', sa.Integer(), nullable=True),
    sa.Column('has_venue', sa.Boolean(), nullable=False),
    sa.Column('has_signage', sa.Boolean(), nullable=False),
    sa.Column('has_rules', sa.Boolean(), nullable=False),
    sa.Column('has_activities', sa.Boolean(), nullable=False),
    sa.Column('has_results', sa.Boolean(), nullable=False),
    sa.Column('established_on', sa.Date(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('convener', sa.String(length=100), nullable=True),
    sa.Column('local_members', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], ),
    sa.ForeignKeyConstraint(['township_id'], ['areas.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_stations_location', ['location'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_stations_area_id'), ['area_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stations_township_id'), ['township_id'], unique=False)

    op.create_table('units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=True),
    sa.Column('township_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['township_id'], ['areas.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('station_serves',
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('station_id', 'area_id')
    )
    with op.batch_alter_table('station_serves', schema=None) as batch_op:
        batch_op.create_index('ix_station_serves_area_id', ['area_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('login', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=12), nullable=False),
    sa.Column('sector', sa.String(length=60), nullable=True),
    sa.Column('township_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('locale', sa.String(length=10), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('notify', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['township_id'], ['areas.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('login')
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('object_type', sa.String(length=30), nullable=True),
    sa.Column('object_id', sa.String(length=40), nullable=True),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)

    op.create_geospatial_table('issues',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('location', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('accuracy_m', sa.Float(), nullable=True),
    sa.Column('location_source', sa.String(length=10), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('area_id', sa.Integer(), nullable=True),
    sa.Column('township_id', sa.Integer(), nullable=True),
    sa.Column('reporter_id', sa.Integer(), nullable=True),
    sa.Column('contact_name', sa.String(length=100), nullable=True),
    sa.Column('contact_phone', sa.String(length=40), nullable=True),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=True),
    sa.Column('observed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('priority', sa.String(length=8), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('answer_class', sa.String(length=1), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duplicate_of_id', sa.Integer(), nullable=True),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('reported', 'accepted', 'in_progress', 'resolved', 'closed', 'rejected', 'duplicate')", name='status_known'),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], ),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], ),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['issues.id'], ),
    sa.ForeignKeyConstraint(['reporter_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['township_id'], ['areas.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('client_id'),
    sa.UniqueConstraint('ref')
    )
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_issues_location', ['location'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_issues_area_id'), ['area_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_issues_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_issues_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_issues_reporter_id'), ['reporter_id'], unique=False)
        batch_op.create_index('ix_issues_status_created', ['status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_issues_township_id'), ['township_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_issues_unit_id'), ['unit_id'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('dedupe_key', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('next_try_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedupe_key')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_sent_at'), ['sent_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_user_id'), ['user_id'], unique=False)

    op.create_table('station_members',
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('station_id', 'user_id')
    )
    op.create_geospatial_table('visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('form', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('planned_for', sa.Date(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=True),
    sa.Column('leader_id', sa.Integer(), nullable=True),
    sa.Column('station_id', sa.Integer(), nullable=True),
    sa.Column('township_id', sa.Integer(), nullable=True),
    sa.Column('start_location', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('start_label', sa.String(length=200), nullable=True),
    sa.Column('participants', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('attendance', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('opinions', sa.Text(), nullable=True),
    sa.Column('actions', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['leader_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], ),
    sa.ForeignKeyConstraint(['township_id'], ['areas.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_visits_start_location', ['start_location'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_visits_station_id'), ['station_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_township_id'), ['township_id'], unique=False)

    op.create_geospatial_table('followups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=True),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('inspector_id', sa.Integer(), nullable=True),
    sa.Column('location', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('accuracy_m', sa.Float(), nullable=True),
    sa.Column('distance_m', sa.Float(), nullable=True),
    sa.Column('on_site', sa.Boolean(), nullable=True),
    sa.Column('finding', sa.String(length=10), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('satisfaction', sa.String(length=20), nullable=True),
    sa.Column('area_id', sa.Integer(), nullable=True),
    sa.Column('township_id', sa.Integer(), nullable=True),
    sa.Column('client_id', sa.String(length=64), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('num_nonnulls(issue_id, visit_id) >= 1', name='has_subject'),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], ),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['inspector_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], ),
    sa.ForeignKeyConstraint(['township_id'], ['areas.id'], ),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('client_id')
    )
    with op.batch_alter_table('followups', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_followups_location', ['location'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_followups_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_followups_due_on'), ['due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_followups_issue_id'), ['issue_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_followups_township_id'), ['township_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_followups_visit_id'), ['visit_id'], unique=False)

    op.create_table('issue_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('from_status', sa.String(length=12), nullable=True),
    sa.Column('to_status', sa.String(length=12), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('client_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('client_id')
    )
    with op.batch_alter_table('issue_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issue_events_issue_id'), ['issue_id'], unique=False)

    op.create_geospatial_table('visit_stops',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=True),
    sa.Column('location', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=True),
    sa.Column('area_id', sa.Integer(), nullable=True),
    sa.Column('township_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], ),
    sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], ),
    sa.ForeignKeyConstraint(['township_id'], ['areas.id'], ),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('visit_stops', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_visit_stops_location', ['location'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_visit_stops_area_id'), ['area_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_stops_issue_id'), ['issue_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_stops_visit_id'), ['visit_id'], unique=False)

    op.create_geospatial_table('photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=True),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.Column('followup_id', sa.Integer(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('ext', sa.String(length=5), nullable=False),
    sa.Column('content_type', sa.String(length=30), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('exif_location', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('client_id', sa.String(length=64), nullable=True),
    sa.Column('uploader_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('num_nonnulls(issue_id, visit_id, followup_id) = 1', name='one_owner'),
    sa.ForeignKeyConstraint(['followup_id'], ['followups.id'], ),
    sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], ),
    sa.ForeignKeyConstraint(['uploader_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('client_id')
    )
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_photos_exif_location', ['exif_location'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_photos_followup_id'), ['followup_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_issue_id'), ['issue_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_visit_id'), ['visit_id'], unique=False)

    categories = sa.table(
        "categories",
        sa.column("code", sa.String), sa.column("name", sa.String), sa.column("name_en", sa.String),
        sa.column("deadline_days", sa.Integer), sa.column("lookback_days", sa.Integer),
        sa.column("duplicate_radius_m", sa.Integer), sa.column("active", sa.Boolean),
    )
    op.bulk_insert(categories, [
        dict(code=c, name=n, name_en=e, deadline_days=d, lookback_days=lb, duplicate_radius_m=r, active=True)
        for c, n, e, d, lb, r in CATEGORIES
    ])
    units = sa.table(
        "units", sa.column("code", sa.String), sa.column("name", sa.String),
        sa.column("name_en", sa.String), sa.column("active", sa.Boolean),
    )
    op.bulk_insert(units, [dict(code=c, name=n, name_en=e, active=True) for c, n, e in UNITS])


def downgrade():
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photos_visit_id'))
        batch_op.drop_index(batch_op.f('ix_photos_sha256'))
        batch_op.drop_index(batch_op.f('ix_photos_issue_id'))
        batch_op.drop_index(batch_op.f('ix_photos_followup_id'))
        batch_op.drop_geospatial_index('idx_photos_exif_location', postgresql_using='gist', column_name='exif_location')

    op.drop_geospatial_table('photos')
    with op.batch_alter_table('visit_stops', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_stops_visit_id'))
        batch_op.drop_index(batch_op.f('ix_visit_stops_issue_id'))
        batch_op.drop_index(batch_op.f('ix_visit_stops_area_id'))
        batch_op.drop_geospatial_index('idx_visit_stops_location', postgresql_using='gist', column_name='location')

    op.drop_geospatial_table('visit_stops')
    with op.batch_alter_table('issue_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issue_events_issue_id'))

    op.drop_table('issue_events')
    with op.batch_alter_table('followups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_followups_visit_id'))
        batch_op.drop_index(batch_op.f('ix_followups_township_id'))
        batch_op.drop_index(batch_op.f('ix_followups_issue_id'))
        batch_op.drop_index(batch_op.f('ix_followups_due_on'))
        batch_op.drop_index(batch_op.f('ix_followups_assignee_id'))
        batch_op.drop_geospatial_index('idx_followups_location', postgresql_using='gist', column_name='location')

    op.drop_geospatial_table('followups')
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visits_township_id'))
        batch_op.drop_index(batch_op.f('ix_visits_station_id'))
        batch_op.drop_geospatial_index('idx_visits_start_location', postgresql_using='gist', column_name='start_location')

    op.drop_geospatial_table('visits')
    op.drop_table('station_members')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_user_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_sent_at'))

    op.drop_table('outbox')
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issues_unit_id'))
        batch_op.drop_index(batch_op.f('ix_issues_township_id'))
        batch_op.drop_index('ix_issues_status_created')
        batch_op.drop_index(batch_op.f('ix_issues_reporter_id'))
        batch_op.drop_index(batch_op.f('ix_issues_created_at'))
        batch_op.drop_index(batch_op.f('ix_issues_category_id'))
        batch_op.drop_index(batch_op.f('ix_issues_area_id'))
        batch_op.drop_geospatial_index('idx_issues_location', postgresql_using='gist', column_name='location')

    op.drop_geospatial_table('issues')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))
        batch_op.drop_index(batch_op.f('ix_audit_log_action'))

    op.drop_table('audit_log')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    op.drop_table('users')
    with op.batch_alter_table('station_serves', schema=None) as batch_op:
        batch_op.drop_index('ix_station_serves_area_id')

    op.drop_table('station_serves')
    op.drop_table('units')
    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stations_township_id'))
        batch_op.drop_index(batch_op.f('ix_stations_area_id'))
        batch_op.drop_geospatial_index('idx_stations_location', postgresql_using='gist', column_name='location')

    op.drop_geospatial_table('stations')
    op.drop_table('settings')
    op.drop_table('login_throttle')
    op.drop_table('categories')
    with op.batch_alter_table('areas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_areas_parent_id'))
        batch_op.drop_index(batch_op.f('ix_areas_level'))
        batch_op.drop_geospatial_index('idx_areas_location', postgresql_using='gist', column_name='location')
        batch_op.drop_geospatial_index('idx_areas_boundary', postgresql_using='gist', column_name='boundary')

    op.drop_geospatial_table('areas')
    # ### end Alembic commands ###
    op.execute("DROP SEQUENCE IF EXISTS issue_ref_seq")
    # PostGIS stays: other databases objects may use it, and upgrade re-creates nothing twice
