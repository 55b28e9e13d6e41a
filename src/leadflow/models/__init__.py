"""SQLAlchemy tables, one aggregate per module; importing this registers them all."""

from leadflow.models.account import Account
from leadflow.models.account_alias import AccountAlias
from leadflow.models.api_key import ApiKey
from leadflow.models.assignment import Assignment
from leadflow.models.audit import AuditEntry
from leadflow.models.closed_rollups import ClosedContent, WonCredit, WonTouches
from leadflow.models.db import Base
from leadflow.models.event import Event
from leadflow.models.external_id import ExternalId
from leadflow.models.goal import Goal, SharedChannel
from leadflow.models.identity import Identity
from leadflow.models.lead import Lead
from leadflow.models.lead_tally import LeadTally
from leadflow.models.name_block import NameBlock
from leadflow.models.outbox import (
    DeliveryAttempt,
    Notification,
    OutboxMessage,
    WebhookEndpoint,
)
from leadflow.models.page_snapshot import PageSnapshot
from leadflow.models.playbook import PlaybookVersion
from leadflow.models.prediction import PredictiveModel
from leadflow.models.privacy import ErasedCount, ForgottenMessage, Tombstone
from leadflow.models.rep import Rep
from leadflow.models.rule_state import AccountMember, AccountRollup, RuleState
from leadflow.models.score_ledger import ScoreEntry
from leadflow.models.shadow import ShadowScore
from leadflow.models.stage_change import StageChange
from leadflow.models.stage_due import AccountStageDue
from leadflow.models.stateless_due import StatelessSearchDue
from leadflow.models.user import SignInFailure, SignInLink, User, WebSession
from leadflow.models.worker_heartbeat import WorkerHeartbeat

__all__ = [
    "Account",
    "AccountAlias",
    "AccountMember",
    "AccountRollup",
    "AccountStageDue",
    "ApiKey",
    "Assignment",
    "AuditEntry",
    "Base",
    "ClosedContent",
    "DeliveryAttempt",
    "ErasedCount",
    "Event",
    "ExternalId",
    "ForgottenMessage",
    "Goal",
    "Identity",
    "Lead",
    "LeadTally",
    "NameBlock",
    "Notification",
    "OutboxMessage",
    "PageSnapshot",
    "PlaybookVersion",
    "PredictiveModel",
    "Rep",
    "RuleState",
    "ScoreEntry",
    "ShadowScore",
    "SharedChannel",
    "SignInFailure",
    "SignInLink",
    "StageChange",
    "StatelessSearchDue",
    "Tombstone",
    "User",
    "WebSession",
    "WebhookEndpoint",
    "WonCredit",
    "WonTouches",
    "WorkerHeartbeat",
]
