"""Natural keys of the 32 interfaces, for idempotent ingestion.

The idempotency key of a stored record is ``(CompanyId of the envelope, interface type,
natural key values, version)`` where *version* is the record's ``UpdateTime`` for the
base-info interfaces (which carry Flag/UpdateTime) and ``None`` for event interfaces; event
interfaces put their event time into the natural key where one record per entity and event
is expected (log-in, positions, ratings).

Rules followed when choosing the keys (each key field must exist and be required, which
``test_spec_loader`` checks):

* every key starts with ``CompanyId`` (ids are only unique within a company);
* base info: the identifier of the thing described (vehicle plate, driver licence number,
  fare-type code, service-agency code, permit number, payment-licence number ...);
* orders and trip events: ``OrderId`` - the spec sends one create/match/cancel/depart/arrive/pay
  record per order;
* log-in/log-out and positions: the driver (licence) or vehicle (plate) plus the event time;
* ratings/complaints/punishments: the rated entity plus the event time (a passenger may rate
  or complain about the same order again later; each is a separate fact);
* statistics: the entity plus the statistics period where the record has one (``Cycle``).
"""

from __future__ import annotations

from types import MappingProxyType

NATURAL_KEYS: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        # A.4 base info: company
        "baseInfoCompany": ("CompanyId",),
        "baseInfoCompanyStat": ("CompanyId",),
        "baseInfoCompanyPay": ("CompanyId", "PayId"),
        "baseInfoCompanyService": ("CompanyId", "ServiceNo"),
        "baseInfoCompanyPermit": ("CompanyId", "Certificate"),
        "baseInfoCompanyFare": ("CompanyId", "FareType"),
        # A.4 base info: vehicle
        "baseInfoVehicle": ("CompanyId", "VehicleNo"),
        "baseInfoVehicleInsurance": ("CompanyId", "VehicleNo", "InsurNum"),
        "baseInfoVehicleTotalMile": ("CompanyId", "VehicleNo"),
        # A.4 base info: driver / passenger
        "baseInfoDriver": ("CompanyId", "LicenseId"),
        "baseInfoDriverEducate": ("CompanyId", "LicenseId", "CourseName", "CourseDate"),
        "baseInfoDriverApp": ("CompanyId", "LicenseId"),
        "baseInfoDriverStat": ("CompanyId", "LicenseId", "Cycle"),
        "baseInfoPassenger": ("CompanyId", "PassengerPhone"),
        # A.5 orders
        "orderCreate": ("CompanyId", "OrderId"),
        "orderMatch": ("CompanyId", "OrderId"),
        "orderCancel": ("CompanyId", "OrderId"),
        # A.6 operations
        "operateLogin": ("CompanyId", "LicenseId", "LoginTime"),
        "operateLogout": ("CompanyId", "LicenseId", "LogoutTime"),
        "operateDepart": ("CompanyId", "OrderId"),
        "operateArrive": ("CompanyId", "OrderId"),
        "operatePay": ("CompanyId", "OrderId"),
        # A.7 positions
        "positionDriver": ("CompanyId", "LicenseId", "PositionTime"),
        "positionVehicle": ("CompanyId", "VehicleNo", "PositionTime"),
        # A.8 ratings
        "ratedPassenger": ("CompanyId", "OrderId", "EvaluateTime"),
        "ratedPassengerComplaint": ("CompanyId", "OrderId", "ComplaintTime"),
        "ratedDriverPunish": ("CompanyId", "LicenseId", "PunishTime"),
        "ratedDriver": ("CompanyId", "LicenseId", "TestDate"),
        # A.9 private car-pooling (私人小客车合乘)
        "shareCompany": ("CompanyId",),
        "shareRoute": ("CompanyId", "RouteId"),
        "shareOrder": ("CompanyId", "OrderId"),
        "sharePay": ("CompanyId", "OrderId"),
    }
)

#: Field that versions a record with the same natural key (a later UpdateTime supersedes).
VERSION_FIELD = "UpdateTime"
