"""Alembic migrations, shipped inside the package so `leadflow init` can run them."""

# New revision, against a database at head (LEADFLOW_DATABASE_URL); then check it by hand:
#   python -c "from alembic import command; from leadflow.models.db import alembic_config;
#              command.revision(alembic_config(), 'what changed', autogenerate=True)"
# `command.check(alembic_config())` says whether the models and the migrations agree.
