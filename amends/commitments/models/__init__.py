from amends.commitments.models.commitments import Commitment, CommitmentDueChange
from amends.commitments.models.escalations import Escalation, EscalationRule
from amends.commitments.models.notifications import Notification

__all__ = [
    "Commitment",
    "CommitmentDueChange",
    "Escalation",
    "EscalationRule",
    "Notification",
]
