"""Indexes the reports need on existing tables (services/reports.py): every report reads one
period of one kind of record, so each is a range over a time column, optionally after an action."""
from __future__ import annotations

from sqlalchemy import Index

from storage.consult_models import CallbackRequest, Consultation
from storage.models import Appeal, AppealEvent, OutboxMessage

Index("ix_appeal_events_action_at", AppealEvent.action, AppealEvent.at)
Index("ix_appeal_events_status_to_at", AppealEvent.status_to, AppealEvent.at)
Index("ix_appeals_registered_at", Appeal.registered_at)
Index("ix_consultations_ended_at", Consultation.ended_at)
Index("ix_callback_requests_created_at", CallbackRequest.created_at)
Index("ix_outbox_created_at", OutboxMessage.created_at)
