"""Stable error codes of the alarms app (part of the API: clients branch on them)."""

from __future__ import annotations

from enum import StrEnum


class AlarmErrorCode(StrEnum):
    KIND_UNKNOWN = "alarms.kind_unknown"
    PARAMS_INVALID = "alarms.params_invalid"
    SCHEDULE_INVALID = "alarms.schedule_invalid"
    REGION_INVALID = "alarms.region_invalid"
    SEVERITY_INVALID = "alarms.severity_invalid"
    NAME_REQUIRED = "alarms.name_required"
    NOT_FOUND = "alarms.not_found"
    OUT_OF_SCOPE = "alarms.out_of_scope"
    DEPARTMENT = "alarms.department"
    STATE = "alarms.state"
    NOTE_REQUIRED = "alarms.note_required"
    ASSIGNEE_INVALID = "alarms.assignee_invalid"
    ACTION_INVALID = "alarms.action_invalid"  # a page action whose input does not parse
    STATE_FILTER = "alarms.state_filter"
    ANSWER_KIND = "alarms.answer_kind"
