"""Every text the assistant shows, in one place (R-3.1, R-3.2, R-5.4).

Short sentences, plain words, no legalese. Meaning is never carried by emoji alone (R-6.7).
Placeholders use str.format names. One module per area; all are read as `texts.NAME`.
"""
from texts.appeal_rules import *  # noqa: F401,F403
from texts.citizen import *  # noqa: F401,F403
from texts.consult import *  # noqa: F401,F403
from texts.hostile import *  # noqa: F401,F403
from texts.notices import *  # noqa: F401,F403
from texts.privacy import *  # noqa: F401,F403
from texts.staff import *  # noqa: F401,F403
from texts.visits import *  # noqa: F401,F403
from texts.mailing import *  # noqa: F401,F403
from texts.personal_data import *  # noqa: F401,F403
from texts.reports import *  # noqa: F401,F403

NOTICES.update(VISIT_NOTICES)  # noqa: F405
