"""Flask extensions, created unbound and bound in the app factory."""

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from fieldwatch.api.errors import JsonErrorApi

db = SQLAlchemy()
migrate = Migrate()
login = LoginManager()
csrf = CSRFProtect()
babel = Babel()
api: Api = JsonErrorApi()
