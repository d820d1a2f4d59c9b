"""SQLAlchemy 2 typed models for the whole loop, and the session factory."""

from models.activities import *  # noqa: F403
from models.base import *  # noqa: F403
from models.messaging import *  # noqa: F403
from models.orders import *  # noqa: F403
from models.org import *  # noqa: F403
from models.people import *  # noqa: F403
