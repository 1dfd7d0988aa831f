"""The traffic simulator (see :mod:`.core`): realistic ride-hailing activity of one platform in one
city, over one or many days, as the 32 interfaces carry it; :func:`run` sends it through a client.
"""

from yunzheng.exchange.simulator.core import (
    CITIES,
    FAULTS,
    INCIDENTS,
    NEIGHBOUR,
    City,
    Event,
    RunReport,
    SimulationPlan,
    SimulationSummary,
    base_information,
    generate,
    run,
)

__all__ = [
    "CITIES",
    "FAULTS",
    "INCIDENTS",
    "NEIGHBOUR",
    "City",
    "Event",
    "RunReport",
    "SimulationPlan",
    "SimulationSummary",
    "base_information",
    "generate",
    "run",
]
