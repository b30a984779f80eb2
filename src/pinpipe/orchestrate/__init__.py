"""Orchestration: the Airflow DAG (exported for MWAA/Databricks or a local Airflow, judged by a
real Airflow) and the pipeline's long-running services supervised as one (``pinpipe up``)."""

from __future__ import annotations

from pinpipe.orchestrate.airflow_run import DagCheck, DagTestError, check_dag
from pinpipe.orchestrate.export import TARGETS, DagExport, DagExportError, export_dag
from pinpipe.orchestrate.services import (
    SERVICE_NAMES,
    PortInUseError,
    api_base_url,
    check_port_free,
    free_port,
    pinpipe_services,
)
from pinpipe.orchestrate.supervisor import (
    ServiceEvent,
    ServiceNotReadyError,
    ServiceResult,
    ServiceSpec,
    SupervisorError,
    SupervisorReport,
    run_services,
)

__all__ = [
    "SERVICE_NAMES",
    "TARGETS",
    "DagCheck",
    "DagExport",
    "DagExportError",
    "DagTestError",
    "PortInUseError",
    "ServiceEvent",
    "ServiceNotReadyError",
    "ServiceResult",
    "ServiceSpec",
    "SupervisorError",
    "SupervisorReport",
    "api_base_url",
    "check_dag",
    "check_port_free",
    "export_dag",
    "free_port",
    "pinpipe_services",
    "run_services",
]
