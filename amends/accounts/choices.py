from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    AGENT = "agent", _("Agent")
    SUPERVISOR = "supervisor", _("Supervisor")
    MANAGER = "manager", _("Manager")
    ADMIN = "admin", _("Admin")


# Higher rank = more authority; used to route approvals and escalations "up the roles".
ROLE_RANK: dict[str, int] = {Role.AGENT: 1, Role.SUPERVISOR: 2, Role.MANAGER: 3, Role.ADMIN: 4}
