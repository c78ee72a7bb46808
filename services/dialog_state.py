"""The dialog store: who is writing (identity, citizen, staff record) and where they are in a
dialog, loaded in one query and saved in the same transaction as the event's effects."""
from __future__ import annotations

from dataclasses import dataclass

from storage.models import DialogState, Identity, Staff
from storage.repos import people as rows
from storage.repos import staff as staff_rows


@dataclass
class Person:
    identity: Identity
    staff: Staff | None
    step: str | None
    data: dict
    _state: DialogState


class DialogStore:
    async def load(self, session, channel: str, user_id: str, display_name: str | None = None) -> Person:
        row = await rows.person(session, channel, user_id)
        if row is None:  # first contact
            identity = await rows.resolve(session, channel, user_id, display_name)
            state, staff = None, await staff_rows.by_identity(session, channel, user_id)
        else:
            identity, state, staff = row
            if not identity.reachable:  # they wrote to us: the channel works again
                identity.reachable, identity.unreachable_reason = True, None
        if state is None:
            state = DialogState(identity_id=identity.id, step=None, data={})
            session.add(state)
        return Person(identity, staff, state.step, state.data or {}, state)

    async def save(self, session, person: Person, step: str, data: dict) -> None:
        person._state.step, person._state.data = step, data
